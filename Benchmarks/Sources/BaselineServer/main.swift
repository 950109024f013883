// A minimal Hummingbird 2 server answering a fixed 1 KiB body: the benchmark's ceiling for
// what the HTTP stack alone can do on this machine. Benchmark-only; not part of vrm.
import Foundation
import Hummingbird

let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 8090
let body = ByteBuffer(string: String(repeating: "x", count: 1024))
let router = Router()
router.get("/v1/share") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: body))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
