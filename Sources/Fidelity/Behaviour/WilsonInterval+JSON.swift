import WeightFiles

extension WilsonInterval {
    /// `{"successes":…,"trials":…,"proportion":…,"lower":…,"upper":…}`.
    public var json: String {
        var o = JSONText()
        o.add("successes", successes)
        o.add("trials", trials)
        o.add("proportion", proportion)
        o.add("lower", lower)
        o.add("upper", upper)
        return o.text
    }
}
