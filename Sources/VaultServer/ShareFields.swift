import HTTPTypes

/// The request fields the fast path reads, found in one pass over the head. (`HTTPFields`'
/// subscript joins every value of a name through a generic `joined`: three lookups took about
/// 2 µs of the ~100 a redemption costs the server.)
struct ShareFields {
    var authorization: String?
    var userAgent: String?
    var ifNoneMatch: String?
    /// For `TrustedProxies`: what a reverse proxy says about the client.
    var forwarded: String?
    var forwardedFor: String?

    static let forwardedName = HTTPField.Name("Forwarded")
    static let forwardedForName = HTTPField.Name("X-Forwarded-For")

    /// nil for a request the fast path leaves to Hummingbird: one with a body
    /// (`Content-Length`, `Transfer-Encoding`), with connection management (`Connection`), or
    /// with more header bytes than `ServerLimits.maxHeaderBytes`.
    init?(_ fields: HTTPFields) {
        var bytes = 0
        var repeated = false
        for field in fields {
            bytes += ServerLimits.fieldBytes(field)
            switch field.name {
            case .contentLength, .transferEncoding, .connection:
                return nil
            case .authorization:
                repeated = repeated || authorization != nil
                authorization = field.value
            case .userAgent:
                repeated = repeated || userAgent != nil
                userAgent = field.value
            case .ifNoneMatch:
                repeated = repeated || ifNoneMatch != nil
                ifNoneMatch = field.value
            case Self.forwardedName:
                repeated = repeated || forwarded != nil
                forwarded = field.value
            case Self.forwardedForName:
                repeated = repeated || forwardedFor != nil
                forwardedFor = field.value
            default:
                break
            }
        }
        guard bytes <= ServerLimits.maxHeaderBytes else { return nil }
        if repeated {
            // A name sent twice reads as HTTPFields (and Hummingbird's path) reads it: every
            // value, joined.
            authorization = fields[.authorization]
            userAgent = fields[.userAgent]
            ifNoneMatch = fields[.ifNoneMatch]
            forwarded = Self.forwardedName.flatMap { fields[$0] }
            forwardedFor = Self.forwardedForName.flatMap { fields[$0] }
        }
    }
}
