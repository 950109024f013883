import Foundation
import Logging
import Testing
@testable import VaultServer

@Suite struct LogWriterTests {
    /// Reads what is in the pipe now, without blocking.
    func available(_ pipe: Pipe) -> String {
        let fd = pipe.fileHandleForReading.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            out += chunk[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func linesLeaveInOrderInBlocksAndOnFlush() throws {
        let pipe = Pipe()
        let writer = BlockWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        writer.write(line: Array("{\"a\":1}".utf8))
        writer.write(line: Array("{\"b\":2}".utf8))
        #expect(available(pipe) == "", "a short block waits for the timer or a flush")
        writer.flush()
        #expect(available(pipe) == "{\"a\":1}\n{\"b\":2}\n")
        // A full block goes out at once, whole and in order.
        let line = String(repeating: "x", count: 999)
        for _ in 0..<20 { writer.write(line: Array(line.utf8)) }
        let written = available(pipe)
        #expect(written.count >= BlockWriter.blockBytes && written.split(separator: "\n").allSatisfy { $0 == line })
        writer.flush()
        #expect((written + available(pipe)).split(separator: "\n").count == 20)
    }

    @Test func theTimerWritesAShortBlockWithinMoments() async throws {
        let pipe = Pipe()
        let writer = BlockWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        writer.write(line: Array("late".utf8))
        var seen = ""
        // "Within moments" on an idle machine; polled up to a minute for a loaded one.
        let deadline = Date().addingTimeInterval(60)
        while seen.isEmpty, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            seen = available(pipe)
        }
        #expect(seen == "late\n")
    }

    @Test func theServerLogHandlerKeepsMetadataUntilItLogs() {
        var handler = ServerLogHandler(label: "test")
        handler[metadataKey: "hb.request.id"] = "42"
        handler.logLevel = .error
        #expect(handler[metadataKey: "hb.request.id"] == "42")
        #expect(handler.metadata == ["hb.request.id": "42"])
        #expect(handler.logLevel == .error)
    }
}
