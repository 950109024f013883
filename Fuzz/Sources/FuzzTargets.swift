// Fuzz targets for the parsers that take hostile input. Built two ways:
//  - with -DFUZZING -sanitize=fuzzer,address (scripts/fuzz.sh): libFuzzer calls
//    LLVMFuzzerTestOneInput; the target is chosen by $VRM_FUZZ_TARGET.
//  - normally: `vrm-fuzz TARGET FILE…` replays inputs (the seed corpus and every crash found),
//    which the test suite runs as a regression test; `vrm-fuzz seed-vault PATH` writes the
//    seed vault for `header-unlocked` (SeedVault.swift).
// A target may reject its input with an error; it must never crash, hang or leak, and where it
// accepts an input the properties below hold (a failed one is a crash).
import Foundation
import VaultCore
import VaultCrypto

enum FuzzTarget: String, CaseIterable {
    case token, vendorKey = "vendor-key", scope, header, headerUnlocked = "header-unlocked", envelope, csv, json

    /// Runs one input; true if the target accepted it (parsed it, or for `header-unlocked`
    /// unlocked the vault), so a replay can tell that the code past the parser ran.
    @discardableResult
    func run(_ data: Data) -> Bool {
        let text = String(decoding: data, as: UTF8.self)
        switch self {
        case .token:
            guard let token = try? GrantToken.parse(text) else { return false }
            // A parsed token re-encodes to exactly its input, byte for byte: one text per token.
            precondition(Array(token.encoded().utf8) == Array(data), "token text is not canonical")
            return true
        case .vendorKey:
            var accepted = false
            if let key = try? VendorKeyText.decodePublic(text) {
                // A parsed key re-encodes to exactly its input, byte for byte, but for the
                // surrounding whitespace the parser is documented to ignore (a pasted line).
                let canonical = Array(VendorKeyText.encodePublic(key).utf8)
                let bytes = Array(data)
                let start = (0...max(0, bytes.count - canonical.count)).first { bytes[$0...].starts(with: canonical) }
                precondition(
                    start.map { bytes[..<$0].isSurroundingWhitespace && bytes[($0 + canonical.count)...].isSurroundingWhitespace } == true,
                    "public key text is not canonical")
                precondition((try? VendorKeyText.decodePublic(String(decoding: canonical, as: UTF8.self))) == key, "public key does not round-trip")
                accepted = true
            }
            if let pair = try? VendorKeyText.decodeSecret(Array(data)) {
                // The same for a secret-key file: exactly its line, but for the line ending.
                var line = VendorKeyText.encodeSecret(pair)
                defer { Wipe.bytes(&line) }
                line.removeLast()
                precondition(
                    data.starts(with: line) && Array(data.dropFirst(line.count)).allSatisfy { [0x0A, 0x0D, 0x20].contains($0) },
                    "secret key file is not canonical")
                accepted = true
            }
            return accepted
        case .scope:
            _ = try? Purpose.parse(text)
            guard let scope = try? Scope.parse(text) else { return false }
            precondition((try? Scope.parse(scope.description)) == scope, "scope does not round-trip")
            return true
        case .header:
            return Self.withVaultFile(data) { database in
                _ = try? AuditVerifier.verify(database, checkpoint: nil)
                _ = try? Vault.unlock(database: database, passphrase: try SecretKey.random(count: 8))
                return true
            }
        case .headerUnlocked:
            return Self.withVaultFile(data) { database in
                guard let vault = try? Vault.unlock(database: database, passphrase: try SeedVault.passphraseKey()) else { return false }
                Self.readEverything(vault)
                return true
            }
        case .envelope:
            let decoder = JSONDecoder()
            var accepted = false
            if let signed = try? decoder.decode(SignedShare.self, from: data) { _ = try? signed.verified(); accepted = true }
            if let sealed = try? decoder.decode(SealedShare.self, from: data), let key = try? BoxKeyPair.generate() {
                _ = try? sealed.open(with: key)
                accepted = true
            }
            if (try? decoder.decode(ShareDocument.self, from: data)) != nil { accepted = true }
            return accepted
        case .csv:
            let plain = (try? PurchaseImport.parse(text, format: .csv, defaultVendor: nil)) != nil
            let withVendor = (try? PurchaseImport.parse(text, format: .csv, defaultVendor: "Acme")) != nil
            // The same bytes through every text reader of the import: its generic options and presets.
            let options = [
                PurchaseImport.Options(preset: "amazon"), PurchaseImport.Options(preset: "ofx"), PurchaseImport.Options(preset: "camt053"),
                PurchaseImport.Options(preset: "schema-org"),
                PurchaseImport.Options(
                    defaultVendor: "Acme", columnMap: ["Datum=date", "Betrag=price"], dateFormat: "%d.%m.%y", delimiter: ";", decimalComma: true,
                    defaultCurrency: "EUR", encoding: "windows-1252"),
            ]
            let presets = options.map { Self.importAccepts(data, name: "input.txt", $0) }
            return plain || withVendor || presets.contains(true)
        case .json:
            let rows = (try? PurchaseImport.parse(text, format: .json, defaultVendor: "Acme")) != nil
            let export = (try? VaultExport.decoder().decode(VaultExport.self, from: data)) != nil
            let amazon = Self.importAccepts(data, name: "input.json", PurchaseImport.Options(preset: "amazon"))
            let schemaOrg = Self.importAccepts(data, name: "input.json", PurchaseImport.Options(preset: "schema-org"))
            return rows || export || amazon || schemaOrg
        }
    }

    /// Whether an import reads `data` without a file-level error; each row it reads is one that
    /// passed every check, so it must be a purchase the ledger accepts.
    private static func importAccepts(_ data: Data, name: String, _ options: PurchaseImport.Options) -> Bool {
        guard let batch = try? PurchaseImport.read([PurchaseImport.InputFile(name: name, data: data)], options: options) else { return false }
        for row in batch.rows { precondition((try? PurchaseLedger.validate(row.purchase)) != nil, "an import row fails the ledger's checks") }
        return true
    }

    /// Writes `data` to a scratch vault file, opens it, and hands it to `body`; false if it does not open.
    private static func withVaultFile(_ data: Data, _ body: (VaultDatabase) throws -> Bool) -> Bool {
        let path = NSTemporaryDirectory() + "vrm-fuzz-\(getpid()).db"
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        guard FileManager.default.createFile(atPath: path, contents: data), let database = try? VaultDatabase.open(path: path) else { return false }
        return (try? body(database)) ?? false
    }

    /// Every read the CLI offers, on a vault whose bytes the fuzzer chose: each may refuse
    /// (corruption is an error), none may crash.
    private static func readEverything(_ vault: Vault) {
        _ = try? vault.profile.all()
        for vendor in (try? vault.vendors.all()) ?? [] { _ = try? vault.vendors.vendor(named: vendor.name) }
        _ = try? vault.purchases.list()
        for purchase in (try? vault.purchases.list(PurchaseFilter(gifts: true))) ?? [] { _ = try? vault.purchases.purchase(id: purchase.id) }
        for supportCase in (try? vault.cases.list()) ?? [] { _ = try? vault.cases.supportCase(id: supportCase.id) }
        for grant in (try? vault.grants.list()) ?? [] {
            _ = try? vault.grants.grant(id: grant.id)
            _ = try? vault.grants.consentReceipt(grantID: grant.id)
        }
        _ = try? vault.audit.entries()
        for grouping in SpendingGrouping.allCases { _ = try? vault.reports.spending(by: grouping) }
        _ = try? vault.reports.vendorScorecards()
        _ = try? vault.reports.exposure()
        for format in ExportFormat.allCases { _ = try? vault.portability.export(format) }
        _ = try? AuditVerifier.verify(vault.database, checkpoint: nil)
    }
}

extension ArraySlice<UInt8> {
    /// Only what `trimmingCharacters(in: .whitespacesAndNewlines)` removes (or nothing).
    var isSurroundingWhitespace: Bool {
        String(decoding: self, as: UTF8.self).unicodeScalars.allSatisfy { CharacterSet.whitespacesAndNewlines.contains($0) }
    }
}

#if FUZZING
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["VRM_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set VRM_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    selectedTarget.run(data)
    return 0
}

typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
) -> Int32

/// SwiftPM links an executable's entry point as `<module>_main`; hand control to libFuzzer's driver.
@_cdecl("vrm_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector, fuzzOne)
}
#else
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "seed-vault", args.count == 2 {
            do {
                try SeedVault.make(at: args[1])
            } catch {
                FileHandle.standardError.write(Data("vrm-fuzz: cannot write the seed vault: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(
                Data(
                    """
                    usage: vrm-fuzz TARGET FILE|DIR…  (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))
                           vrm-fuzz seed-vault PATH

                    """.utf8))
            exit(2)
        }
        var count = 0, accepted = 0
        for path in args.dropFirst() {
            var isDirectory: ObjCBool = false
            let files =
                FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                if target.run(data) { accepted += 1 }
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed, \(accepted) accepted, no crash")
    }
}
#endif
