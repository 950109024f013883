import Foundation
import VaultCLI

exit(await VRM.run(arguments: Array(CommandLine.arguments.dropFirst())))
