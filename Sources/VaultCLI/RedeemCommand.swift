import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto

struct RedeemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redeem",
        abstract: "For vendors: fetch a share, open it, verify the vault's signature, print it.",
        discussion: """
            The token is read from --token-file (or - for stdin), else $VRM_TOKEN; --token also \
            works but leaves the token visible to other users of the machine in the process list.
            Key-bound grants need --key with the vendor secret key file. A share must carry its \
            ETag, be for --grant when given, and be no older than the newest version of that grant \
            received before (kept in $XDG_STATE_HOME/vrm/share-versions).

            Examples:
              VRM_TOKEN=vrm_… vrm redeem --url http://127.0.0.1:8080
              vrm redeem --url https://vault.example --token-file token.txt \\
                  --key acme.key --json
            """)
    @Option(help: "The vault server's base URL.") var url: String
    @Option(help: ArgumentHelp("The grant token (prefer --token-file or $VRM_TOKEN).", valueName: "token")) var token: String?
    @Option(help: ArgumentHelp("Read the token from this file (- for stdin).", valueName: "file")) var tokenFile: String?
    @Option(help: ArgumentHelp("The vendor secret key file, for key-bound grants.", valueName: "file")) var key: String?
    @Option(help: ArgumentHelp("Require the share to be signed by this vault key (base64).", valueName: "key")) var vaultKey: String?
    @Option(help: "Send If-None-Match with this ETag (a 304 means nothing changed).") var ifNoneMatch: String?
    @Option(help: ArgumentHelp("Require the share to be for this grant (its id, printed by `vrm grant create`).", valueName: "id"))
    var grant: String?
    @Option(help: ArgumentHelp("Require the share to come from this vault (its id, on the grant card).", valueName: "hex"))
    var vaultID: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        guard let base = URL(string: url), let scheme = base.scheme, ["http", "https"].contains(scheme), base.host != nil else {
            throw CLIError.usage("--url must be an http(s) URL such as http://127.0.0.1:8080")
        }
        let tokenText = try readToken()
        let pinned = try vaultKey.map { text -> [UInt8] in
            guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
                throw CLIError.usage("--vault-key must be the base64 Ed25519 key printed by `vrm grant create`")
            }
            return Array(bytes)
        }
        if pinned == nil {
            Terminal.note(
                "vrm redeem: note: the signer is not pinned; pass --vault-key (printed by `vrm grant create`) to be sure the share comes from the customer's vault."
            )
        }
        let client = VendorClient(baseURL: base, keyPair: try key.map(loadVendorKey), pinnedSigner: pinned)
        switch try await client.fetch(token: tokenText, ifNoneMatch: ifNoneMatch) {
        case .share(let document, let signer, let etag, let keyBound):
            if let grant, document.grantID != grant {
                throw ShareFormatError.malformed("share (it is for another grant than --grant)")
            }
            if let vaultID, document.vaultID != vaultID.lowercased() {
                throw ShareFormatError.malformed("share (it is from another vault than --vault-id)")
            }
            try ShareVersions.standard().accept(vaultID: document.vaultID, grantID: document.grantID, version: document.version)
            if output.json {
                print(try Terminal.json(document))
            } else {
                Self.printShare(document, signer: signer, etag: etag, keyBound: keyBound)
            }
        case .notModified(let etag):
            print("Not modified: you hold the current version \(etag ?? "").")
        case .refused(let status, let problem, let title, let retryAfter):
            let kind = problem.split(separator: ":").last.map(String.init) ?? ""
            var message = "the vault refused (\(status) \(kind)): \(title)"
            if let retryAfter { message += " Retry after \(retryAfter) s." }
            throw CLIError(description: message)
        }
    }

    func readToken() throws -> String {
        var raw: String?
        if let tokenFile {
            let data = tokenFile == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: tokenFile)
            guard let data else { throw CLIError(description: "cannot read the token file \(tokenFile)") }
            raw = String(decoding: data.prefix(4096), as: UTF8.self)
        } else if let env = ProcessInfo.processInfo.environment["VRM_TOKEN"], !env.isEmpty {
            raw = env
        } else if let token {
            Terminal.note("vrm redeem: warning: --token puts the token in the process list; prefer --token-file or VRM_TOKEN.")
            raw = token
        }
        guard let text = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            throw CLIError.usage("no token: use --token-file FILE, VRM_TOKEN, or --token")
        }
        return text
    }

    static func printShare(_ d: ShareDocument, signer: [UInt8], etag: String?, keyBound: Bool) {
        print("Share \(d.grantID) version \(d.version) from vault \(d.vaultID.prefix(12))…")
        print("  signature: valid (vault key \(Data(signer).base64EncodedString()))")
        print("  sealed to your key: \(keyBound ? "yes" : "no (bearer grant)")")
        print("  for:       \(d.vendor), purpose \(d.purpose)\(d.terms.map { ", terms \($0)" } ?? "")")
        print("  scopes:    \(d.scopes.joined(separator: ", "))")
        print("  issued:    \(d.issuedAt); expires \(d.expiresAt ?? "never")")
        if let profile = d.data.profile {
            print("  profile:")
            if profile.isEmpty { print("    (no granted field is set)") }
            for (key, value) in profile.sorted(by: { $0.key < $1.key }) { print("    \(key): \(value)") }
        }
        if let v = d.data.vendor {
            print("  your entry: \(v.name)\(v.stage.map { ", stage \($0)" } ?? "")\(v.site.map { ", \($0)" } ?? "")\(v.notes.map { ", notes: \($0)" } ?? "")")
        }
    }
}
