internal import CSodium

/// One-time libsodium initialisation. Every entry point of this module calls `Sodium.ensureReady()`.
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    static func ensureReady() {
        precondition(initialised, "libsodium could not be initialised")
    }
}
