import ArgumentParser
import Foundation
import VaultCrypto

struct VendorKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vendor-key",
        abstract: "For vendors: make the key pair that key-bound shares are sealed to.",
        discussion: """
            Examples:
              vrm vendor-key generate --out acme.key
              vrm vendor-key public --key acme.key
            """,
        subcommands: [Generate.self, Public.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new secret key file (0600) and print its public key.",
            discussion: """
                Give the printed vrmpk1_… public key to the customer; keep the file secret. \
                Refuses to overwrite an existing file.

                Example:
                  vrm vendor-key generate --out acme.key
                """)
        @Option(help: ArgumentHelp("Where to write the secret key (- for standard output; the public key then goes to standard error).", valueName: "file"))
        var out: String

        func run() throws {
            let pair = try BoxKeyPair.generate()
            var content = VendorKeyText.encodeSecret(pair)
            defer { Wipe.bytes(&content) }
            if out == StandardStreams.name {
                content.withUnsafeBytes { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                Terminal.note(VendorKeyText.encodePublic(pair.publicKey))
                return
            }
            let fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else {
                throw CLIError(
                    description: errno == EEXIST
                        ? "\(out) already exists; refusing to overwrite a key file" : "cannot create \(out): \(String(cString: strerror(errno)))")
            }
            let written = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let synced = fsync(fd) == 0
            close(fd)
            guard written == content.count, synced else {
                unlink(out)
                throw CLIError(description: "cannot write \(out)")
            }
            Terminal.note("Wrote the secret key to \(out) (mode 0600). Keep it private.")
            print(VendorKeyText.encodePublic(pair.publicKey))
        }
    }

    struct Public: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "public",
            abstract: "Print the public key of a secret key file.",
            discussion: "Example:\n  vrm vendor-key public --key acme.key")
        @Option(help: ArgumentHelp("The secret key file (- for standard input).", valueName: "file")) var key: String

        func run() throws {
            print(VendorKeyText.encodePublic(try loadVendorKey(key).publicKey))
        }
    }
}

/// Reads a vendor secret key file.
func loadVendorKey(_ path: String) throws -> BoxKeyPair {
    let standardInput = path == StandardStreams.name
    guard let handle = standardInput ? FileHandle.standardInput : FileHandle(forReadingAtPath: path) else {
        throw CLIError(description: "cannot read the key file \(path): \(String(cString: strerror(errno)))")
    }
    defer { if !standardInput { try? handle.close() } }
    var bytes = Array((try? handle.read(upToCount: 4096)) ?? Data())
    defer { Wipe.bytes(&bytes) }
    return try VendorKeyText.decodeSecret(bytes)
}
