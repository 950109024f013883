import ArgumentParser
import Foundation
import Synchronization
import VaultCore
import VaultCrypto
import VaultUI

/// `vrm ui`: the local dashboard.
struct UICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Open a local dashboard: who can see what until when, the history, relationships, spending and cases.",
        discussion: """
            Unlocks the vault (or uses the `vrm unlock` session) and serves a dashboard on 127.0.0.1 \
            only, at a free port. The link it prints (and opens in your browser when there is a \
            display, unless --no-open) carries a one-time secret: its first visit signs that browser \
            in, and the link is used up. Other host names, other sites' pages and forms without the \
            page's own token are refused. Revoking a grant, approving or denying an access request \
            and closing a case each ask for confirmation first; changes go to a linked relay as with \
            the other commands.

            Stops on Ctrl-C, with the page's Stop button, or after --idle without a request from the \
            browser. The vault key stays in this process's memory until then. See Specs/dashboard.md.

            Examples:
              vrm ui                        # opens the browser when there is a display
              vrm ui --no-open --idle 5m    # prints the link; stops after 5 idle minutes
              vrm ui --port 8731
            """)

    @OptionGroup var location: VaultLocation
    @OptionGroup var unlock: UnlockOptions
    @Option(help: "Port on 127.0.0.1 (0: a free one).") var port = 0
    @Option(help: ArgumentHelp("Stop after this long without a request (30s to 12h).", valueName: "duration")) var idle = "15m"
    @Flag(help: "Print the link only; do not start a browser.") var noOpen = false

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard let seconds = TimeParsing.duration(idle), seconds >= 30, seconds <= 12 * 3600 else {
            throw ValidationError("--idle must be a duration from 30s to 12h, like 15m")
        }
    }

    func run() async throws {
        let vault = try unlock.unlock(location)
        let dashboard = Dashboard(
            vault: vault, options: DashboardOptions(port: port, idleTimeout: TimeInterval(TimeParsing.duration(idle) ?? 900)),
            hooks: DashboardHooks(
                pull: { vault in try await RelayPush.pullRequests(vault, quiet: true).map { "The relay " + $0 } },
                push: { vault in try await RelayPush.flush(vault).map { "Sent to the relay \($0.url) too." } }))
        let opener = BrowserOpener(enabled: !noOpen)
        defer { opener.cleanUp() }
        let stop: DashboardStop
        do {
            // `link` is zeroed by the dashboard once this returns; the copies made here are
            // zeroed here, and written without another copy.
            stop = try await dashboard.run { link in
                let host = String(decoding: link.prefix { $0 != UInt8(ascii: "?") }, as: UTF8.self)
                Terminal.note("vrm ui: listening on \(host) — Ctrl-C to stop")
                var line = Array("Dashboard (the link works once): ".utf8) + link + [UInt8(ascii: "\n")]
                defer { Wipe.bytes(&line) }
                line.withUnsafeMutableBytes { bytes in
                    guard let base = bytes.baseAddress else { return }
                    try? StandardStreams.writeOut(Data(bytesNoCopy: base, count: bytes.count, deallocator: .none))
                }
                if let opened = opener.open(link) { Terminal.note("vrm ui: \(opened)") }
            }
        } catch {
            throw CLIError(description: "the dashboard could not start: \(error)")
        }
        switch stop {
        case .idle: Terminal.note("vrm ui: stopped after \(idle) without a request.")
        case .stopButton: Terminal.note("vrm ui: stopped from the page.")
        case .signal: Terminal.note("vrm ui: stopped.")
        }
    }
}

/// Starts the desktop's browser on the link without putting the secret in any process's
/// arguments: the link goes into a file only this user can read (a page that forwards to
/// it), and the browser is given the file's path. The file is removed a minute later, or at exit.
final class BrowserOpener: Sendable {
    private let enabled: Bool
    private let directory = Mutex<URL?>(nil)

    init(enabled: Bool) {
        let environment = ProcessInfo.processInfo.environment
        let display = environment["DISPLAY"].map { !$0.isEmpty } == true || environment["WAYLAND_DISPLAY"].map { !$0.isEmpty } == true
        self.enabled = enabled && display
    }

    /// What was done, for the terminal; nil when nothing was tried.
    func open(_ link: [UInt8]) -> String? {
        guard enabled else { return nil }
        guard let opener = ["xdg-open", "sensible-browser"].lazy.compactMap(Self.find).first else {
            return "no xdg-open found; open the link above in your browser."
        }
        do {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vrm-ui-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            directory.withLock { $0 = dir }
            let file = dir.appendingPathComponent("open.html")
            var page = Array(
                "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><meta http-equiv=\"refresh\" content=\"0;url=".utf8)
            page += link + Array("\"><title>VRM Vault</title>".utf8)
            defer { Wipe.bytes(&page) }
            let written = page.withUnsafeMutableBytes { bytes -> Bool in
                guard let base = bytes.baseAddress else { return false }
                let data = Data(bytesNoCopy: base, count: bytes.count, deallocator: .none)
                return FileManager.default.createFile(atPath: file.path, contents: data, attributes: [.posixPermissions: 0o600])
            }
            guard written else {
                return "could not write the page that opens the browser; open the link above."
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: opener)
            process.arguments = [file.path]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            DispatchQueue.global().asyncAfter(deadline: .now() + 60) { [weak self] in self?.cleanUp() }
            return "opening your browser (\(URL(fileURLWithPath: opener).lastPathComponent))."
        } catch {
            return "could not start the browser (\(error.localizedDescription)); open the link above."
        }
    }

    func cleanUp() {
        if let dir = directory.withLock({ dir in
            defer { dir = nil }; return dir
        }) {
            try? FileManager.default.removeItem(at: dir)
        }
    }

    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
