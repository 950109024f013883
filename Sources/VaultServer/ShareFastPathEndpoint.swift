/// What `ShareFastPath` asks of `GET /v1/share`'s endpoint: `ShareEndpoint` in the server, a
/// stand-in in the handler's `EmbeddedChannel` tests (which need no vault).
protocol ShareFastPathEndpoint: Sendable {
    /// Starts one request. `reply` runs exactly once, on this thread or any other.
    func begin(
        authorization: String?, userAgent: String?, ifNoneMatch: String?, client: String,
        reply: @escaping @Sendable (ShareEndpoint.Reply) -> Void)

    /// The HTTP answer for a reply. Throws when there is none to give (the caller answers 500).
    func answer(_ reply: ShareEndpoint.Reply, client: String) throws -> ShareAnswer

    /// The client of a request from `peer` (`TrustedProxies`).
    func client(peer: String, forwarded: String?, forwardedFor: String?) -> String
}

extension ShareFastPathEndpoint {
    func client(peer: String, forwarded: String?, forwardedFor: String?) -> String { peer }
}

extension ShareEndpoint: ShareFastPathEndpoint {}
