/// The version of this Retort, printed by `retort --version` (the one place it is written).
public enum RetortVersion {
    public static let current = "0.1.0"
}
