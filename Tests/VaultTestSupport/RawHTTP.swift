import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request written byte for byte (any Host, Origin or Cookie a browser would
/// never send) on its own connection to 127.0.0.1, and the whole answer read until the server
/// closes it. Blocking: call it through `blocking { }` from async tests.
public enum RawHTTP {
    public struct Reply: Sendable {
        public let status: Int
        /// Header names in lower case; a repeated header keeps its last value.
        public let headers: [String: String]
        public let body: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `headers` are sent as given, then `Connection: close` and, with a body, its length.
    public static func send(port: Int, method: String = "GET", target: String, headers: [(String, String)], body: String? = nil, timeout: Int = 60) throws
        -> Reply
    {
        var text = "\(method) \(target) HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Connection: close\r\n"
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        let bytes = Array(text.utf8)

        let fd = try connection(port: port, timeout: timeout)
        defer { close(fd) }
        try write(bytes, to: fd)
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        // Until the server closes, or the body its Content-Length announces has come (some
        // servers, chromedriver among them, keep the connection open despite `close`).
        while !complete(answer) {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else {
                let code = errno
                throw Failure(description: code == EAGAIN || code == EWOULDBLOCK ? "no answer within \(timeout) s" : "connection failed (errno \(code))")
            }
            answer += chunk[0..<count]
        }
        let whole = String(decoding: answer, as: UTF8.self)
        guard let split = whole.range(of: "\r\n\r\n") else { throw Failure(description: "no header end in \(whole.prefix(200))") }
        let lines = whole[..<split.lowerBound].components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "no status line")
        }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Reply(status: status, headers: fields, body: String(whole[split.upperBound...]))
    }

    /// A TCP connection to 127.0.0.1:`port` whose reads give up after `timeout` seconds; the
    /// caller closes the descriptor.
    public static func connection(port: Int, timeout: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port)")
        }
        return fd
    }

    /// A server on 127.0.0.1 (its own thread, blocking sockets, so TCP's flow control holds it
    /// back) that answers every connection `200 OK` at once and then writes a body of 4 GiB as
    /// fast as the peer reads it: `written` counts what it got out, `closed` how many peers hung
    /// up before the end. Stops when `stop()` is called.
    public final class FloodServer: @unchecked Sendable {
        public let port: Int
        private let listener: Int32
        private let lock = NSLock()
        private var counts = (written: 0, closed: 0)
        private var stopped = false

        public var written: Int { lock.withLock { counts.written } }
        public var closed: Int { lock.withLock { counts.closed } }

        public init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket failed") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard bound == 0, listen(fd, 16) == 0 else {
                close(fd)
                throw Failure(description: "bind failed")
            }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            listener = fd
            port = Int(UInt16(bigEndian: address.sin_port))
            Thread.detachNewThread { [self] in accepting() }
        }

        public func stop() {
            lock.withLock { stopped = true }
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }

        private func accepting() {
            while !lock.withLock({ stopped }) {
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { return }
                Thread.detachNewThread { [self] in flood(fd) }
            }
        }

        private func flood(_ fd: Int32) {
            defer { close(fd) }
            var request = [UInt8](repeating: 0, count: 65_536)
            _ = recv(fd, &request, request.count, 0)
            let head = Array("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4294967296\r\n\r\n".utf8)
            guard head.withUnsafeBytes({ Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == head.count else { return }
            let chunk = [UInt8](repeating: 0x61, count: 65_536)
            var total = 0
            while total < 1 << 32 {
                let sent = chunk.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else {
                    lock.withLock { counts.closed += 1 }
                    return
                }
                total += sent
                lock.withLock { counts.written += sent }
            }
        }
    }

    /// Writes all of `bytes` in one call.
    public static func write(_ bytes: [UInt8], to fd: Int32) throws {
        let sent = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw Failure(description: "short send") }
    }

    /// True once the header and a Content-Length body are all in `bytes`.
    static func complete(_ bytes: [UInt8]) -> Bool {
        let end: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4, let index = (0...(bytes.count - 4)).first(where: { bytes[$0..<($0 + 4)].elementsEqual(end) }) else { return false }
        let lines = String(decoding: bytes[..<index], as: UTF8.self).lowercased().components(separatedBy: "\r\n")
        guard let line = lines.first(where: { $0.hasPrefix("content-length:") }) else { return false }
        let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? -1
        return length >= 0 && bytes.count - index - 4 >= length
    }
}
