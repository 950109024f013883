import ArgumentParser
import Foundation

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole story in a temporary vault: grants, redemption, change, revocation, audit.")

    func run() async throws {
        throw CLIError(description: "not built yet")
    }
}
