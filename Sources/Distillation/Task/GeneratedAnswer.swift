/// How a `generate` decoder reads a language model's continuation as a task output (`formats/task.md`,
/// "Prompt tasks"): the text up to its first newline, leading spaces skipped, then the longest run matching
/// `-?[0-9]+` at the start. No such run, a run too long for 64 bits, or a value outside the decoder's
/// `min…max` is "no answer", the decoder's `no_answer` value (default −1).
public enum GeneratedAnswer {
    /// The integer a generated text starts with, or nil when it starts with none.
    /// - Complexity: O(length of the first line)
    public static func leadingInteger(_ text: String) -> Int? {
        let line = text.prefix { $0 != "\n" && $0 != "\r" }
        var rest = line.drop { $0 == " " }
        var sign = ""
        if rest.first == "-" {
            sign = "-"
            rest = rest.dropFirst()
        }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return nil }
        return Int(sign + digits)
    }

    /// The task output of a generated text under `generate(…, min, max, noAnswer)`.
    /// - Complexity: O(length of the first line)
    public static func output(of text: String, min: Int, max: Int, noAnswer: Int) -> Int {
        guard let value = leadingInteger(text), value >= min, value <= max else { return noAnswer }
        return value
    }
}
