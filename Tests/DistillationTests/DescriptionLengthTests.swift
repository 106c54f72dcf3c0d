import Foundation
import Testing

@testable import Distillation

@Test func naturalNumbersUseTheEliasGammaLength() {
    #expect(DescriptionLength.natural(0) == 1)
    #expect(DescriptionLength.natural(1) == 3)
    #expect(DescriptionLength.natural(2) == 3)
    #expect(DescriptionLength.natural(3) == 5)
    #expect(DescriptionLength.natural(1022) == 19)
}

@Test func signedIntegersAreZigZagged() {
    #expect(DescriptionLength.integer(0) == 1)
    #expect(DescriptionLength.integer(-1) == 3)
    #expect(DescriptionLength.integer(1) == 3)
    #expect(DescriptionLength.integer(113) == DescriptionLength.natural(226))
}

@Test func subsetCodeMatchesTheBinomial() {
    #expect(abs(DescriptionLength.subset(of: 10, choosing: 3) - log2(120)) < 1e-9)
    #expect(DescriptionLength.subset(of: 10, choosing: 10) == 0)
}

@Test func subsetCodeStaysExactOnHugeDomains() {
    // lgamma(2⁶⁰) differences would lose these bits to rounding; log₂ C(2⁶⁰, 3) = 3·60 − log₂ 6 to within 1e-9.
    let n = 1 << 60
    #expect(abs(DescriptionLength.subset(of: n, choosing: 3) - (180 - log2(6.0))) < 1e-6)
    #expect(DescriptionLength.subset(of: n, choosing: 0) == 0)
}

@Test func exceptionTablesNameTheirInputsAsASubsetOfTheDomain() {
    // natural(E) + log₂ C(|D|, E) + E·log₂|Y|: 57 exceptions of 10,000 inputs cost 8.8 bits of input each, not log₂ 10,000 = 13.3.
    let bits = DescriptionLength.exceptions(57, domainSize: 10_000, outputCount: 199)
    let expected = DescriptionLength.natural(57) + DescriptionLength.subset(of: 10_000, choosing: 57) + 57 * log2(199.0)
    #expect(abs(bits - expected) < 1e-9)
    #expect(bits < DescriptionLength.natural(57) + 57 * (log2(10_000.0) + log2(199.0)))
    #expect(DescriptionLength.exceptions(0, domainSize: 10_000, outputCount: 199) == 1)
    #expect(abs(DescriptionLength.exceptions(1, domainSize: 16, outputCount: 2) - (3 + 4 + 1)) < 1e-9)
}

@Test func aWholeDomainTableCostsAboutOneOutputPerInput() {
    let bits = DescriptionLength.table(entries: 10_000, domainSize: 10_000, outputCount: 199)
    let perEntry = log2(199.0)
    #expect(bits > 10_000 * perEntry && bits < 10_001 * perEntry + 40)
}

@Test func compressionRatioFollowsTheDesignFormula() {
    let ratio = DescriptionLength.compressionRatio(modelBits: 20, exceptions: 5, domainSize: 1024, outputCount: 16)
    // The 5 exceptions coded as every family codes its table: natural(5) = 5 bits, which 5 of 1024, 5 outputs of 16.
    let table = 5 + log2(1024 * 1023 * 1022 * 1021 * 1020 / 120.0) + 5 * 4
    #expect(abs(ratio - (20 + table) / (1024 * 4)) < 1e-12)
}
