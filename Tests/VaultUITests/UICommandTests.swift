import Foundation
import Testing
import VaultTestSupport

/// `vrm ui` as a user runs it: the link it prints, the loopback server, the way it stops.
@Suite struct UICommandTests {
    @Test func vrmUIPrintsALinkThatWorksOnceAndStopsOnCtrlC() async throws {
        let cli = CLIRunner()
        let env = try await blocking { try cli.initVault(passphrase: "velvet tractor mango quietly") }
        let added = try await blocking { try cli.run(["vendor", "add", "Acme Outdoor"], env: env) }
        #expect(added.status == 0)
        // DISPLAY set: --no-open must still keep it from starting anything.
        let ui = try await blocking {
            try BackgroundCommand(cli, ["ui", "--no-open", "--idle", "30s"], env: env.merging(["DISPLAY": ":99"]) { $1 }, name: "ui")
        }
        var link = ""
        let deadline = Date().addingTimeInterval(120)  // generous: a loaded machine is slow to start it
        while link.isEmpty, Date() < deadline {
            if let line = ui.out.split(separator: "\n").first(where: { $0.contains("?k=") }) { link = String(line.split(separator: " ").last ?? "") }
            if link.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(link.hasPrefix("http://127.0.0.1:\(ui.port)/?k="))
        #expect(ui.log.contains("listening on http://127.0.0.1:\(ui.port)/") && !ui.log.contains("?k="))
        let target = String(link.dropFirst("http://127.0.0.1:\(ui.port)".count))
        let host = "127.0.0.1:\(ui.port)"
        let first = try await blocking { try RawHTTP.send(port: ui.port, target: target, headers: [("Host", host)]) }
        #expect(first.status == 303)
        let session = String((first.headers["location"] ?? "").dropLast("exposure".count))
        #expect(session.hasPrefix("/s/") && first.headers["set-cookie"] == nil)
        let page = try await blocking { try RawHTTP.send(port: ui.port, target: session + "relationships", headers: [("Host", host)]) }
        #expect(page.status == 200 && page.body.contains("Acme Outdoor"))
        let second = try await blocking { try RawHTTP.send(port: ui.port, target: target, headers: [("Host", host)]) }
        #expect(second.status == 403)
        // The secret is in no process's arguments.
        let cmdline = (try? String(contentsOfFile: "/proc/\(ui.pid)/cmdline", encoding: .utf8)) ?? ""
        #expect(!cmdline.isEmpty && !cmdline.contains(String(target.dropFirst(4))))
        // Ctrl-C: a clean stop.
        #expect(try await blocking { ui.signal(SIGINT) })
        #expect(ui.exitStatus == 0)
        #expect(ui.log.contains("vrm ui: stopped."))
    }

    @Test func withADisplayTheBrowserGetsAFileThatForwardsNeverTheSecret() async throws {
        let cli = CLIRunner()
        let env = try await blocking { try cli.initVault(passphrase: "velvet tractor mango quietly") }
        // A stand-in for xdg-open: records its arguments, the file's and its directory's modes,
        // and the file, then follows the link as a browser would.
        let bin = cli.dir.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let record = cli.dir.file("opened")
        let script = """
            #!/bin/sh
            echo "args: $*" > '\(record)'
            stat -c 'modes: %a' "$1" "$(dirname "$1")" >> '\(record)'
            cat "$1" >> '\(record)'
            """
        // Written by a child process, not by this one: a file this process had open for writing
        // can be inherited by a command another test starts at that moment, and then exec fails
        // with "Text file busy" for as long as that command runs (a CI run saw the stand-in never start).
        let source = cli.dir.file("xdg-open.sh")
        FileManager.default.createFile(atPath: source, contents: Data(script.utf8))
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/usr/bin/install")
        install.arguments = ["-m", "755", source, bin + "/xdg-open"]
        try await blocking {
            try install.run()
            install.waitUntilExit()
        }
        #expect(install.terminationStatus == 0)
        let ui = try await blocking {
            try BackgroundCommand(cli, ["ui", "--idle", "30s"], env: env.merging(["DISPLAY": ":99", "PATH": bin + ":/usr/bin:/bin"]) { $1 }, name: "ui")
        }
        // Polled against the wall clock, generously: on a loaded machine (CI runs every suite at
        // once on two cores) the unlock and the browser's start can take far longer than here.
        var opened = ""
        let deadline = Date().addingTimeInterval(120)
        while !opened.contains("refresh"), Date() < deadline {
            opened = (try? String(contentsOfFile: record, encoding: .utf8)) ?? ""
            if !opened.contains("refresh") { try await Task.sleep(for: .milliseconds(100)) }
        }
        let link = try #require(ui.out.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let secret = try #require(link.split(separator: "=").last.map(String.init))
        let args = try #require(opened.split(separator: "\n").first, "the stand-in never ran; vrm ui said: \(ui.out) \(ui.log)")
        #expect(args.hasPrefix("args: /") && args.hasSuffix("/open.html") && !args.contains(secret))
        #expect(opened.contains("modes: 600\nmodes: 700"))
        #expect(opened.contains("http-equiv=\"refresh\" content=\"0;url=\(link)\""))
        #expect(ui.log.contains("opening your browser (xdg-open)"))
        // The forwarding page is gone when vrm ui stops.
        let file = String(args.dropFirst("args: ".count))
        #expect(try await blocking { ui.signal(SIGTERM) })
        #expect(!FileManager.default.fileExists(atPath: file) && !FileManager.default.fileExists(atPath: (file as NSString).deletingLastPathComponent))
    }

    @Test func badOptionsAWrongPassphraseAndNoVaultAreClearErrors() async throws {
        let cli = CLIRunner()
        let env = try await blocking { try cli.initVault(passphrase: "velvet tractor mango quietly") }
        for (args, status, words) in [
            (["ui", "--idle", "1s"], Int32(2), "--idle must be"), (["ui", "--port", "70000"], 2, "--port must be"),
            (["ui", "--idle", "soon"], 2, "--idle must be"),
        ] {
            let result = try await blocking { try cli.run(args, env: env) }
            #expect(result.status == status && result.err.contains(words), "\(args): \(result.err)")
        }
        let wrong = try await blocking { try cli.run(["ui", "--no-open", "--passphrase-file", cli.writePassphrase("not it", name: "wrong")]) }
        #expect(wrong.status == 3 && !wrong.out.contains("?k="))
        let none = try await blocking { try cli.run(["ui", "--no-open"], env: env.merging(["VRM_VAULT": cli.dir.file("missing.db")]) { $1 }) }
        #expect(none.status == 5 && none.err.contains("no vault"))
    }
}
