import HTTPTypes
public import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the client address.
public struct VaultRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address (without port), or "unknown".
    public let clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = Self.ipText(source.channel.remoteAddress)
    }

    /// The address without port. IPv4 is formatted here: NIO's `ipAddress` goes through
    /// `inet_ntop`, i.e. `sprintf`, which cost more than the rest of the context, per request.
    static func ipText(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        if case .v4(let v4) = address {
            let octets = withUnsafeBytes(of: v4.address.sin_addr.s_addr) { Array($0) }  // network order
            return "\(octets[0]).\(octets[1]).\(octets[2]).\(octets[3])"
        }
        return address.ipAddress ?? "unknown"
    }

    /// No endpoint takes a body; anything past this is refused with 413.
    public var maxUploadSize: Int { ServerLimits.maxBodyBytes }
}

/// Request size bounds.
public enum ServerLimits {
    /// Largest accepted request body.
    public static let maxBodyBytes = 16 * 1024
    /// Largest body of a relay control request (a push of grants with their shares).
    public static let maxControlBodyBytes = 8 << 20
    /// Largest accepted total of header names and values; larger gets 431.
    public static let maxHeaderBytes = 32 * 1024
    /// The HTTP parser's own hard limit; past it the connection is closed with 400.
    public static let parserHeaderLimit = 256 * 1024

    /// The size of a request's headers as `maxHeaderBytes` counts it.
    static func headerBytes(_ fields: HTTPFields) -> Int {
        fields.reduce(0) { $0 + fieldBytes($1) }
    }

    /// One field's share of `maxHeaderBytes`: its name and value, a colon, a space and CRLF.
    static func fieldBytes(_ field: HTTPField) -> Int {
        field.name.rawName.utf8.count + field.value.utf8.count + 4
    }
}
