public import Logging

/// The server's log handler: standard error, like swift-log's `StreamLogHandler`, but metadata
/// is only formatted when something is logged. Hummingbird sets a request id on the logger of
/// every request, and `StreamLogHandler` re-renders all its metadata on each set — work done
/// for every request, for a log that, at the server's level (warnings), is almost never written.
public struct ServerLogHandler: LogHandler {
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String) {
        stream = StreamLogHandler.standardError(label: label)
    }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        event.metadata = merged
        stream.log(event: event)
    }
}
