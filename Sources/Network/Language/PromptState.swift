/// What a clean (intervention-free) run of one prompt of a `PromptBatch` leaves behind, kept so that
/// patched runs of the same prompt can resume from it (`PromptBatch.resume`).
///
/// A patch at block L, position p changes nothing at the layers below L nor at the positions before p,
/// so a patched run needs to compute only blocks L… at positions p…: the keys and values of every layer
/// at the other positions, and the residual stream entering block L at positions p…, are the clean
/// run's. The state holds those for every layer at the positions after the shared prefix (the prefix's
/// keys and values are shared by the states of one batch), and at the generated positions: while a
/// patched run generates what the clean run generated, the blocks below L of its next token are the
/// clean run's too.
///
/// Opaque: made by a run with `PromptBatch.keepStates`, read only by the model that made it.
public final class PromptState: @unchecked Sendable {
    /// The prompt's token ids.
    let tokens: [Int]
    let sharedPrefix: Int
    /// The shared prefix's keys and values (positions `0..<sharedPrefix`); read only once made.
    let prefix: KVCache
    let layers: Int
    let kvWidth: Int
    let dModel: Int
    /// Keys and values after the prefix, `[layers, rows, kvWidth]` each; the residual stream entering
    /// each block, `[layers, rows, dModel]`: the prompt's positions after the prefix, then the positions of
    /// the generated tokens fed back (room for `newTokens − 1`).
    var keys: [Float]
    var values: [Float]
    var residuals: [Float]
    /// Rows per layer.
    let rows: Int
    /// The clean run's generated tokens.
    var generated: [Int] = []
    /// The rows filled (the prompt's, then those of the generated tokens fed back).
    var filled = 0

    init(tokens: [Int], sharedPrefix: Int, newTokens: Int, prefix: KVCache, layers: Int, kvWidth: Int, dModel: Int) {
        self.tokens = tokens
        self.sharedPrefix = sharedPrefix
        self.prefix = prefix
        self.layers = layers
        self.kvWidth = kvWidth
        self.dModel = dModel
        rows = tokens.count - sharedPrefix + max(0, newTokens - 1)
        keys = [Float](repeating: 0, count: layers * rows * kvWidth)
        values = keys
        residuals = [Float](repeating: 0, count: layers * rows * dModel)
    }

    /// The positions after the shared prefix.
    var span: Int { tokens.count - sharedPrefix }

    /// The memory this state takes, in bytes (its share of the prefix not counted).
    public var byteCount: Int { (keys.count + values.count + residuals.count) * MemoryLayout<Float>.stride }
}
