import Foundation
import Synchronization
import VaultCrypto

/// Reads a passphrase into secure memory from, in order: a file named by option, the file named
/// by `VRM_PASSPHRASE_FILE`, the `VRM_PASSPHRASE` variable, or a no-echo terminal prompt.
/// The bytes never pass through a `String`.
enum PassphraseReader {
    static let maxBytes = 4096

    /// What `VRM_PASSPHRASE` held when the process started (`takeFromEnvironment`).
    enum Taken {
        case absent
        case empty
        case passphrase(SecretKey)
    }

    private static let taken = Mutex<Taken>(.absent)

    /// Moves `VRM_PASSPHRASE` into secure memory and out of the environment: its bytes are wiped
    /// where they stood and the variable removed, so nothing the CLI starts, and no later read of
    /// the environment (`ProcessInfo.environment` copies every variable into `String`s), sees
    /// it. The CLI calls this first thing, before anything reads the environment.
    static func takeFromEnvironment() throws {
        guard
            let passphrase = try takeVariable(
                "VRM_PASSPHRASE",
                { bytes in
                    bytes.isEmpty ? nil : try SecretKey(copying: UnsafeRawBufferPointer(bytes))
                })
        else { return }
        taken.withLock { $0 = passphrase.map(Taken.passphrase) ?? .empty }
    }

    /// Hands `read` the bytes of the environment variable `name` in place, then wipes them
    /// where they stood and removes the variable: a secret never becomes a `String` and nothing
    /// later (a child process, `ProcessInfo.environment`) sees it. Nil when it is not set.
    static func takeVariable<T>(_ name: String, _ read: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T? {
        guard let pointer = getenv(name) else { return nil }
        let length = strlen(pointer)
        defer {
            memset(UnsafeMutableRawPointer(mutating: pointer), 0, length)
            unsetenv(name)
        }
        return try read(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length))
    }

    /// Whether `VRM_PASSPHRASE` was set when the process started.
    static var environmentHadPassphrase: Bool {
        taken.withLock { if case .absent = $0 { false } else { true } }
    }

    static func read(file: String?, confirm: Bool, prompt: String) throws -> SecretKey {
        if let file { return try fromFile(file) }
        if let file = ProcessInfo.processInfo.environment["VRM_PASSPHRASE_FILE"], !file.isEmpty { return try fromFile(file) }
        try takeFromEnvironment()  // in case the process did not take it at start (tests)
        switch taken.withLock({ $0 }) {
        case .passphrase(let passphrase): return passphrase
        case .empty: throw CLIError.usage("VRM_PASSPHRASE is set but empty")
        case .absent: return try fromTerminal(prompt: prompt, confirm: confirm)
        }
    }

    /// The file's content (standard input's for `-`) without one trailing line ending (LF or CRLF). `VRM_PASSPHRASE`
    /// is taken exactly as set.
    static func fromFile(_ path: String) throws -> SecretKey {
        let isStandardInput = path == StandardStreams.name
        // Typed at a terminal, a passphrase is read without echo.
        if isStandardInput, isatty(STDIN_FILENO) == 1 { return try fromTerminal(prompt: "Vault passphrase", confirm: false) }
        let fd = isStandardInput ? STDIN_FILENO : open(path, O_RDONLY)
        guard fd >= 0 else { throw CLIError(description: "cannot read the passphrase file \(path): \(String(cString: strerror(errno)))") }
        defer { if !isStandardInput { close(fd) } }
        let buffer = try SecretKey(zeroedCount: maxBytes + 1)
        let count = buffer.withUnsafeMutableBytes { raw -> Int in
            var total = 0
            while total < raw.count {
                let n = Foundation.read(fd, raw.baseAddress.map { $0 + total }, raw.count - total)
                if n <= 0 { break }
                total += n
            }
            return total
        }
        guard count <= maxBytes else { throw CLIError(description: "the passphrase file is larger than \(maxBytes) bytes") }
        return try trimmed(buffer, count: count)
    }

    static func trimmed(_ buffer: SecretKey, count: Int) throws -> SecretKey {
        let length = buffer.withUnsafeBytes { raw -> Int in
            var end = count
            if end > 0, raw[end - 1] == 0x0A { end -= 1 }
            if end > 0, raw[end - 1] == 0x0D { end -= 1 }
            return end
        }
        guard length > 0 else { throw CLIError.usage("the passphrase is empty") }
        return try buffer.withUnsafeBytes { try SecretKey(copying: UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }

    static func fromTerminal(prompt: String, confirm: Bool) throws -> SecretKey {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard tty >= 0 else {
            throw CLIError.usage("no passphrase source and no terminal: use `vrm unlock`, --passphrase-file PATH, VRM_PASSPHRASE_FILE or VRM_PASSPHRASE")
        }
        defer { close(tty) }
        let first = try promptOnce(tty: tty, prompt: prompt + ": ")
        guard confirm else { return first }
        let second = try promptOnce(tty: tty, prompt: "Repeat " + prompt.lowercased() + ": ")
        guard first.constantTimeEquals(second) else { throw CLIError.usage("the two passphrases do not match; nothing was changed") }
        return first
    }

    static func promptOnce(tty: Int32, prompt: String) throws -> SecretKey {
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        var saved = termios()
        let isTerminal = tcgetattr(tty, &saved) == 0
        if isTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(tty, TCSAFLUSH, &quiet)
        }
        defer {
            if isTerminal { tcsetattr(tty, TCSAFLUSH, &saved) }
            _ = write(tty, "\n", 1)
        }
        let buffer = try SecretKey(zeroedCount: maxBytes + 1)
        let count = buffer.withUnsafeMutableBytes { raw -> Int in
            var total = 0
            var byte: UInt8 = 0
            while total < raw.count, Foundation.read(tty, &byte, 1) == 1 {
                if byte == 0x0A { break }
                raw[total] = byte
                total += 1
            }
            byte = 0
            return total
        }
        guard count <= maxBytes else { throw CLIError(description: "the passphrase is longer than \(maxBytes) bytes") }
        if count == 0 { throw CLIError.usage("the passphrase is empty") }
        return try trimmed(buffer, count: count)
    }
}
