/// Settings of the alignment search and the representation tests.
public struct RepresentationOptions: Sendable {
    /// Base/source pairs to choose alignments on, and to score the chosen one on. When the input set has
    /// at most `fittingPairs + heldOutPairs` ordered pairs, all of them are shuffled and split in that ratio;
    /// otherwise each set is drawn at random, held-out pairs never repeating a fitting pair.
    public var fittingPairs = 256
    /// Held-out pairs (see `fittingPairs`).
    public var heldOutPairs = 256
    /// The seed of every draw (pairs, initial bases, random units).
    public var seed: UInt64 = 0
    /// The sites to search; `nil` = every hidden hook (MLP: `layers.{i}.hook_post`, `hook_pre` of every layer
    /// but the output layer; transformers: every block's `hook_attn_out`, `hook_resid_mid`, `mlp.hook_post`,
    /// `hook_resid_post`) at `positions`.
    public var sites: [AlignmentSite]?
    /// Transformer positions for the default sites; `nil` = the final position.
    public var positions: [Int]?
    /// Fitting pairs (the first this many) on which each candidate site is interchanged whole, to map where
    /// the variable's effect lives before searching.
    public var localisationPairs = 256
    /// The alignment search runs at this many sites, the best of the localisation map (by IIA where the
    /// output changes, then overall); `nil` = every site.
    public var searchSites: Int? = 4
    /// Single neurons tried per site: the units with the highest correlation ratio η² with the variable.
    public var maxSingleNeurons = 32
    /// Sizes of the neuron sets tried per site (the top units by η²).
    public var neuronSetSizes = [2, 4]
    /// Dimensions of the subspaces trained per site (distributed alignment search); empty = none.
    public var subspaceDimensions = [1, 2]
    /// Adam steps and learning rate of subspace training (full batch over the fitting pairs).
    public var subspaceSteps = 200
    /// Adam's learning rate for subspace training.
    public var learningRate = 0.05
    /// Random unit draws averaged for the ablation-specificity baseline.
    public var randomDraws = 5
    /// Only the first this many surrogate variables (`nil` = all); trees and rule families can have many.
    public var maxVariables: Int?
    /// Only the variables with these names (`a + b`; the whole expression also answers to its name without
    /// ` (output)`), in the surrogate's order; `nil` = all (up to `maxVariables`). The verdict is then about
    /// the variables named.
    public var variables: [String]?
    /// Threads for candidate scoring and subspace training (networks also use their own threads per run). Prompt
    /// tasks do not use it: their work is language-model runs, on the threads the model (and its control) was
    /// loaded with.
    public var threads = 1

    /// The most inputs the tests use (a seeded sample of the input set beyond it): clean activations of
    /// every input are kept at every site.
    public var maxInputs = 20_000

    /// The most inputs the replacement, excluded and ablation tests run on (a seeded sample beyond it): each
    /// is a forward pass over them, eight per tested alignment. 2,048 inputs bound a rate's 95% interval
    /// within ±2.2 points.
    public var maxEvaluationInputs = 2_048

    /// Prompt tasks: use only inputs where the network's answer is the surrogate's (there the surrogate is
    /// exact, so an interchange that fails is the mechanism's failure, not the behaviour's).
    public var onlyAgreeingInputs = true

    /// Prompt tasks: the most fitting pairs distributed alignment search trains on (full batch; each step is a
    /// forward and reverse pass of the model after the site over all of them).
    public var promptSubspacePairs = 64

    /// Prompt tasks: the most inputs used (each keeps its clean activations at every site's hook).
    public var maxPromptInputs = 256

    /// The most pairs of either kind: pair sets and their counterfactuals are held in memory.
    public static let maxPairs = 1_000_000

    /// The defaults above.
    public init() {}
}
