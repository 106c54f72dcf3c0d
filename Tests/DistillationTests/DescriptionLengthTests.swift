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

@Test func aWholeDomainTableCostsAboutOneOutputPerInput() {
    let bits = DescriptionLength.table(entries: 10_000, domainSize: 10_000, outputCount: 199)
    let perEntry = log2(199.0)
    #expect(bits > 10_000 * perEntry && bits < 10_001 * perEntry + 40)
}

@Test func compressionRatioFollowsTheDesignFormula() {
    let ratio = DescriptionLength.compressionRatio(modelBits: 20, exceptions: 5, domainSize: 1024, outputCount: 16)
    #expect(abs(ratio - (20 + 5 * (10 + 4)) / (1024 * 4)) < 1e-12)
}
