// Benchmark helpers for Benchmarks/run.sh. Not part of vrm.
//   vrm-bench generate  VAULT PASSFILE         a personal-archive vault at issue 6's scale
//   vrm-bench share-vault VAULT PASSFILE DIR   a vault with a ~1 KiB bearer share and a key-bound share;
//                                              writes DIR/bearer.token, DIR/key.token, DIR/vendor.key
//   vrm-bench aead SECONDS                     VaultCrypto XChaCha20-Poly1305 on 4 KiB: encrypt+decrypt pairs per CPU-second
//   vrm-bench kdf VAULT                        seconds one Argon2id derivation with the vault's parameters takes
//   vrm-bench grants VAULT PASSFILE N          adds a vendor and N active grants covering the profile
//   vrm-bench redeem VAULT TOKENFILE BATCH SECONDS
//                                              redemption without HTTP, in batches of BATCH (one fsync each):
//                                              µs per redemption in prepare (parallel) and commit (the writer)
import Foundation
@_spi(Benchmark) import VaultCore
import VaultCrypto

func passphrase(_ path: String) throws -> SecretKey {
    guard var bytes = FileManager.default.contents(atPath: path).map(Array.init) else { throw VaultError.storage("cannot read \(path)") }
    while bytes.last == 0x0A { bytes.removeLast() }
    return try SecretKey(wiping: &bytes)
}

func write(_ text: String, to path: String) throws {
    FileManager.default.createFile(atPath: path, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: 0o600])
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "generate" where args.count == 3:
        let started = Date()
        let vault = try Vault.create(path: args[1], passphrase: try passphrase(args[2]), kdf: .interactive)
        _ = try vault.generateLargeVault(LargeVaultShape()) { FileHandle.standardError.write(Data("  generated \($0)\n".utf8)) }
        print(String(format: "%.1f", Date().timeIntervalSince(started)))
    case "share-vault" where args.count == 4:
        let vault = try Vault.create(path: args[1], passphrase: try passphrase(args[2]), kdf: .interactive)
        let profile = [
            "name": "Jo Example", "email": "jo@example.org", "phone": "+1 555 0100",
            "address.shipping": "12 Quokka Lane, Springfield, 4242, Freedonia", "address.billing": "PO Box 9, Springfield, 4242, Freedonia",
            "birthday": "1990-04-01", "size.shoe": "EU 42", "size.shirt": "M", "preference.contact": "email",
            "preference.language": "en-GB", "note.delivery": "Leave parcels with the neighbour at number 14 if nobody answers.",
        ]
        for (key, value) in profile { try vault.profile.set(key, value: value) }
        try vault.vendors.add(name: "Bench Bearer")
        let vendorKey = try BoxKeyPair.generate()
        try vault.vendors.add(name: "Bench Keyed", publicKey: VendorKeyText.encodePublic(vendorKey.publicKey))
        let bearer = try vault.grants.create(GrantRequest(vendorName: "Bench Bearer", scopes: [.profile], purpose: .delivery, expiresAt: nil))
        let keyed = try vault.grants.create(GrantRequest(vendorName: "Bench Keyed", scopes: [.profile], purpose: .delivery, expiresAt: nil))
        try write(bearer.token.encoded(), to: args[3] + "/bearer.token")
        try write(keyed.token.encoded(), to: args[3] + "/key.token")
        try write(bearer.grant.id, to: args[3] + "/bearer.grant")
        var secret = VendorKeyText.encodeSecret(vendorKey)
        FileManager.default.createFile(atPath: args[3] + "/vendor.key", contents: Data(secret), attributes: [.posixPermissions: 0o600])
        Wipe.bytes(&secret)
    case "aead" where args.count == 2:
        // Timed in this thread's CPU time, as Benchmarks/aead_c.c is: what other processes
        // and the hypervisor take from this thread does not count against either loop.
        func cpuSeconds() -> Double {
            var now = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
            return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        }
        let seconds = Double(args[1]) ?? 3
        let key = try SecretKey.random()
        let message = [UInt8](repeating: 0x5A, count: 4096)
        let ad = [UInt8](repeating: 1, count: 32)
        var pairs = 0
        let start = cpuSeconds()
        var elapsed = 0.0
        while elapsed < seconds {
            for _ in 0..<1000 {
                let box = try AEAD.seal(message, key: key, associatedData: ad)
                _ = try AEAD.open(box, key: key, associatedData: ad)
            }
            pairs += 1000
            elapsed = cpuSeconds() - start
        }
        print(Int(Double(pairs) / elapsed))
    case "kdf" where args.count == 2:
        let database = try VaultDatabase.open(path: args[1])
        let started = Date()
        _ = try PasswordHash.deriveKey(passphrase: try SecretKey.random(count: 16), salt: database.header.salt, parameters: database.header.kdf)
        print(String(format: "%.3f", Date().timeIntervalSince(started)))
    case "grants" where args.count == 4:
        let vault = try Vault.unlock(path: args[1], passphrase: try passphrase(args[2]))
        let vendor = "Bulk \(Random.identifier())"
        try vault.vendors.add(name: vendor)
        for _ in 0..<(Int(args[3]) ?? 0) {
            _ = try vault.grants.create(GrantRequest(vendorName: vendor, scopes: [.profile], purpose: .delivery, expiresAt: nil))
        }
    case "redeem" where args.count == 5:
        let database = try VaultDatabase.open(path: args[1])
        let redeemer = try Redeemer(database: database)
        guard
            let token = FileManager.default.contents(atPath: args[2]).flatMap({ String(data: $0, encoding: .utf8) })?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        else { throw VaultError.storage("cannot read \(args[2])") }
        let batch = max(1, Int(args[3]) ?? 16)
        let seconds = Double(args[4]) ?? 3
        var done = 0
        let clock = ContinuousClock()
        var preparing = Duration.zero, committing = Duration.zero
        let start = clock.now
        while clock.now - start < .seconds(seconds) {
            let requests = (0..<batch).map { _ in
                RedemptionRequest(token: Substring(token), client: "127.0.0.1", userAgent: "vrm-bench", held: nil)
            }
            let t0 = clock.now
            let prepared = requests.map(redeemer.prepare)
            let t1 = clock.now
            for result in redeemer.commit(prepared) {
                guard case .share = try result.get() else { throw VaultError.storage("redemption was not a share") }
            }
            preparing += t1 - t0
            committing += clock.now - t1
            done += batch
        }
        func micros(_ d: Duration) -> Double {
            (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) * 1e6 / Double(done)
        }
        let elapsed = clock.now - start
        let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            String(
                format: "%d redemptions/s in batches of %d; per redemption: prepare %.1f µs (parallel in the server), commit %.1f µs (the single writer)",
                Int(Double(done) / total), batch, micros(preparing), micros(committing)))
    default:
        FileHandle.standardError.write(
            Data(
                "usage: vrm-bench generate VAULT PASSFILE | share-vault VAULT PASSFILE DIR | aead SECONDS | kdf VAULT | grants VAULT PASSFILE N | redeem VAULT TOKENFILE BATCH SECONDS\n"
                    .utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("vrm-bench: \(error)\n".utf8))
    exit(1)
}
