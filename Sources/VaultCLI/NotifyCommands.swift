import ArgumentParser
import Foundation
import VaultCore
import VaultServer

struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Be told when vendors redeem, are refused, ask for access, or a grant is revoked.",
        discussion: """
            The endpoint that serves your grants (vrm serve, or the relay) sends the notices: to an \
            ntfy topic (a push to your phone) or to a webhook of yours. A notice carries the kind \
            of event, the grant or request id, how many and when — nothing personal, so the push \
            service learns only that there was activity. Each event goes at once in a notice of its \
            own (one per redemption), up to four in an --interval (default 1m); the fifth carries \
            everything waiting, and later events wait and go together, so a busy grant cannot \
            flood you: at most five notices an interval. An ntfy topic URL is a capability: whoever knows it can \
            read the topic, so pick a long random topic name.

            Examples:
              vrm notify set --ntfy https://ntfy.sh/vrm-7f3c9a1e5b
              vrm notify set --webhook https://home.example/vrm --interval 5m
              vrm notify test
              vrm notify show
              vrm notify off
            """,
        subcommands: [Set.self, Show.self, Test.self, Off.self])

    struct ChannelJSON: Encodable {
        var kind: String?
        var url: String?
        var interval: Int64?
        var warning: String?
    }

    static func json(_ channel: CustomerChannel?) -> ChannelJSON {
        ChannelJSON(kind: channel?.kind.rawValue, url: channel?.url, interval: channel?.interval, warning: channel.flatMap(warning))
    }

    static func warning(_ channel: CustomerChannel) -> String? {
        channel.url.lowercased().hasPrefix("http:") ? "plain http: only for a listener on this machine" : nil
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send notices to an ntfy topic or a webhook.",
            discussion: """
                --ntfy URL: the topic's URL (https://ntfy.sh/TOPIC or your own ntfy server); each notice \
                is a plain-text message titled "VRM Vault activity".
                --webhook URL: a JSON POST {"type": "vault.activity", "timestamp", "data": {"events": […]}} \
                signed like vendors' webhooks (Standard Webhooks v1a, the vault's notification key).
                Either must be https, or http to this machine (127.0.0.1, localhost).

                A topic URL is a capability: `-` reads it from standard input, so it is not in the \
                process list while the command runs.

                Examples:
                  vrm notify set --ntfy https://ntfy.sh/vrm-7f3c9a1e5b
                  vrm notify set --webhook https://home.example/vrm --interval 5m
                  vrm notify set --ntfy - < topic-url.txt
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: ArgumentHelp("An ntfy topic URL (`-`: read it from standard input).", valueName: "url")) var ntfy: String?
        @Option(help: ArgumentHelp("A webhook URL of yours (`-`: read it from standard input).", valueName: "url")) var webhook: String?
        @Option(help: "At most five notices per this long (10s to 1d).") var interval = "1m"
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (ntfy == nil) != (webhook == nil) else { throw ValidationError("give one of --ntfy URL or --webhook URL") }
        }

        func run() async throws {
            guard let seconds = TimeParsing.duration(interval.trimmingCharacters(in: .whitespaces).lowercased()),
                CustomerChannel.intervals.contains(Int64(seconds))
            else { throw CLIError.usage("--interval must be a duration from 10s to 1d, such as 30s, 1m or 5m") }
            // `-`: the URL from standard input, so a topic (a capability) is not in the process list.
            var url = ntfy ?? webhook ?? ""
            if url == StandardStreams.name {
                if StandardStreams.passphraseReadsStandardInput(unlock) {
                    throw CLIError.usage("standard input cannot give both the passphrase and the URL")
                }
                url = String(decoding: try StandardStreams.read(url, what: "the URL", limit: 4096), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let channel = CustomerChannel(kind: ntfy == nil ? .webhook : .ntfy, url: url, interval: Int64(seconds))
            do {
                try NotifyURL.check(channel.url)
            } catch {
                throw CLIError.usage("\(error)")
            }
            if ntfy != nil, ntfy != StandardStreams.name {
                Terminal.note(
                    "vrm notify set: warning: --ntfy puts the topic (whoever knows it reads your notices) in the process list; prefer --ntfy - with the URL on standard input."
                )
            }
            let vault = try unlock.unlock(location)
            try vault.notifications.set(channel)
            let relay = try await RelayPush.flush(vault)
            if NotifyURL.isLoopback(channel.url), try relay != nil || vault.relay.state() != nil {
                Terminal.note(
                    "vrm notify set: note: a relay sends to its own machine (\(URLComponents(string: channel.url)?.host ?? "localhost")) only when its operator started it with --allow-loopback-receivers."
                )
            }
            try Terminal.report(
                output, NotifyCommand.json(channel),
                text:
                    "Notices go to \(channel.kind.rawValue) \(channel.url), at most five every \(AccessRequestBody.words(forDuration: channel.interval)), sent by "
                    + (relay.map { "the relay \($0.url)" } ?? "vrm serve while it runs") + ". Try it: vrm notify test")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show where notices go.", discussion: "Example:\n  vrm notify show --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let channel = try unlock.unlock(location).notifications.channel()
            let text: String
            if let channel {
                text =
                    "Notices go to \(channel.kind.rawValue) \(channel.url), at most five every \(AccessRequestBody.words(forDuration: channel.interval))."
                    + (NotifyCommand.warning(channel).map { "\nWarning: \($0)." } ?? "")
            } else {
                text = "No notices are sent. Set them with: vrm notify set --ntfy https://ntfy.sh/TOPIC"
            }
            try Terminal.report(output, NotifyCommand.json(channel), text: text)
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one test notice now, from this machine.",
            discussion: """
                Checks the URL works: the notice is sent by this command, in the same form the \
                endpoint sends them. Exits 1 when it was not taken (no answer, or not 2xx).

                Example:
                  vrm notify test
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            guard let channel = try vault.notifications.channel() else {
                throw CLIError.usage("no notices are set; set them first: vrm notify set --ntfy https://ntfy.sh/TOPIC")
            }
            switch await CustomerNotifier.sendTest(to: channel, signer: try vault.notifications.signer()) {
            case .success(let status) where (200..<300).contains(status):
                struct Sent: Encodable {
                    var sent = true
                    var status: Int
                }
                try Terminal.report(output, Sent(status: status), text: "Sent a test notice to \(channel.url) (\(status)).")
            case .success(let status):
                throw CLIError(description: "the notice was not taken: \(channel.url) answered \(status)")
            case .failure(let error):
                throw CLIError(description: "the notice was not sent: \(error)")
            }
        }
    }

    struct Off: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop sending notices.", discussion: "Example:\n  vrm notify off")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            try vault.notifications.clear()
            _ = try await RelayPush.flush(vault)
            try Terminal.report(output, NotifyCommand.json(nil), text: "Notices are off.")
        }
    }
}
