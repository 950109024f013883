// Fuzz targets for the parsers that take hostile input. Built two ways:
//  - with -DFUZZING -sanitize=fuzzer,address (scripts/fuzz.sh): libFuzzer calls
//    LLVMFuzzerTestOneInput; the target is chosen by $VRM_FUZZ_TARGET.
//  - normally: `vrm-fuzz TARGET FILE…` replays inputs (the seed corpus and every crash found),
//    which the test suite runs as a regression test.
// A target may reject its input with an error; it must never crash, hang or leak.
import Foundation
import VaultCore
import VaultCrypto

enum FuzzTarget: String, CaseIterable {
    case token, vendorKey = "vendor-key", scope, header, envelope, csv, json

    func run(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        switch self {
        case .token:
            if let token = try? GrantToken.parse(text) {
                // A parsed token must re-encode to exactly its input: one text per token.
                precondition(token.encoded() == text, "token text is not canonical")
            }
        case .vendorKey:
            if let key = try? VendorKeyText.decodePublic(text) {
                precondition(VendorKeyText.encodePublic(key) == text.trimmingCharacters(in: .whitespacesAndNewlines), "public key text is not canonical")
            }
            _ = try? VendorKeyText.decodeSecret(Array(data))
        case .scope:
            if let scope = try? Scope.parse(text) {
                precondition((try? Scope.parse(scope.description)) == scope, "scope does not round-trip")
            }
            _ = try? Purpose.parse(text)
        case .header:
            let path = NSTemporaryDirectory() + "vrm-fuzz-\(getpid()).db"
            FileManager.default.createFile(atPath: path, contents: data)
            defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
            if let database = try? VaultDatabase.open(path: path) {
                _ = try? AuditVerifier.verify(database, checkpoint: nil)
                _ = try? Vault.unlock(database: database, passphrase: try SecretKey.random(count: 8))
            }
        case .envelope:
            let decoder = JSONDecoder()
            if let signed = try? decoder.decode(SignedShare.self, from: data) { _ = try? signed.verified() }
            if let sealed = try? decoder.decode(SealedShare.self, from: data), let key = try? BoxKeyPair.generate() {
                _ = try? sealed.open(with: key)
            }
            _ = try? decoder.decode(ShareDocument.self, from: data)
        case .csv:
            _ = try? PurchaseImport.parse(text, format: .csv, defaultVendor: nil)
            _ = try? PurchaseImport.parse(text, format: .csv, defaultVendor: "Acme")
        case .json:
            _ = try? PurchaseImport.parse(text, format: .json, defaultVendor: "Acme")
            _ = try? VaultExport.decoder().decode(VaultExport.self, from: data)
        }
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
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: FuzzCallback) -> Int32

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
        guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: vrm-fuzz TARGET FILE|DIR…  (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n".utf8))
            exit(2)
        }
        var count = 0
        for path in args.dropFirst() {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run(data)
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed, no crash")
    }
}
#endif
