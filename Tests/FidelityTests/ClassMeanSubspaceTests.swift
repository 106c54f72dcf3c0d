import Testing

@testable import Fidelity

@Suite("Class-mean subspaces")
struct ClassMeanSubspaceTests {
    @Test("a two-valued variable's subspace is the normalised difference of its two class means")
    func twoValues() throws {
        let rows: [[Float]] = [[1, 0, 2], [3, 0, 2], [0, 4, 2], [0, 6, 2]]
        let basis = ClassMeanSubspace.basis(rows, values: [0, 0, 1, 1], dimension: 1)
        let direction = try #require(basis.first)
        // Means (2, 0, 2) and (0, 5, 2): the difference (−2, 5, 0) / √29, up to sign.
        let expected = [-2, 5, 0].map { $0 / 29.0.squareRoot() }
        let sign = direction[1] < 0 ? -1.0 : 1.0
        #expect(zip(direction, expected).allSatisfy { abs(sign * $0 - $1) < 1e-9 }, "\(direction)")
    }

    @Test("class means that span fewer directions than asked give fewer rows, never a repeated one")
    func rankDeficient() {
        // Three values whose means differ only along the first coordinate: one direction.
        let rows: [[Float]] = [[0, 1], [1, 1], [2, 1]]
        let basis = ClassMeanSubspace.basis(rows, values: [0, 1, 2], dimension: 2)
        #expect(basis.count == 1)
        #expect(abs(abs(basis[0][0]) - 1) < 1e-9 && abs(basis[0][1]) < 1e-9, "\(basis)")
        #expect(ClassMeanSubspace.basis([[1, 1], [1, 1]], values: [0, 1], dimension: 1).isEmpty)
    }
}
