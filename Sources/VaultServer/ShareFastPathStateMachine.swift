import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The protocol state of `ShareFastPath`, apart from its channel: which requests the fast path
/// takes, what it holds while one of them waits for its answer, and when reading pauses. Each
/// method takes one event and returns what the handler is to do; the handler keeps no state of
/// its own. (The model is NIO's `HTTPServerPipelineHandler`, whose connection state is a value
/// beside its buffer of held events.)
///
/// HTTP/1.1 answers in request order, so:
/// - while a fast-path request waits for its commit (`awaiting`), whatever arrives after it —
///   request parts, errors, user events — is held, in order, and past `heldLimit` held parts
///   so are reads; once it is answered, what was held is replayed;
/// - while Hummingbird owes a response (`forwarding`), later requests go to Hummingbird too,
///   which answers them in order after it.
///
/// Transitions (anything not listed leaves the state as it is):
///
/// | state         | event                     | action            | next state                  |
/// |---------------|---------------------------|-------------------|-----------------------------|
/// | `idle`        | head the fast path takes  | `take`            | `reading`                   |
/// | `idle`        | any other head            | `forward`         | `forwarding(unanswered: 1)` |
/// | `idle`        | body, end                 | `forward`         | `idle`                      |
/// | `forwarding`  | head                      | `forward`         | `forwarding(unanswered + 1)`|
/// | `forwarding`  | body, end                 | `forward`         | `forwarding`                |
/// | `forwarding`  | response `.end` written   | —                 | `forwarding(unanswered - 1)`, or `idle` after the last |
/// | `reading`     | body                      | `drop`            | `reading`                   |
/// | `reading`     | end                       | `start(request)`  | `awaiting`                  |
/// | `awaiting`    | head, body, end           | `hold`            | `awaiting`                  |
/// | `awaiting`    | error, user event         | `hold`            | `awaiting`                  |
/// | `awaiting`    | `read()`, `heldLimit` held| `pause`           | `awaiting`                  |
/// | `awaiting`    | request answered          | `replayHeld` if anything is held or reading paused | `idle` |
///
/// A head in `reading` (before the last one's end: the decoder never sends one) counts as in
/// `idle`. Outside `awaiting`, errors and user events are forwarded and `read()` passes on.
/// `channelInactive` and `handlerRemoved` drop what is held, in any state. After
/// `replayHeld`, `nextReplayStep` hands back what was held, one item at a time, until a
/// replayed request waits again or nothing is left; `ShareFastPathStateMachineTests` holds
/// the whole table.
struct ShareFastPathStateMachine {
    /// A request the fast path took: its head, the fields it reads, and when its head arrived.
    struct Request {
        let head: HTTPRequest
        let fields: ShareFields
        let started: ContinuousClock.Instant
    }

    /// Where the connection is between requests and answers.
    enum State {
        /// Nobody is owed an answer: the next head is taken if the fast path takes it
        /// (`takes`), otherwise handed to Hummingbird. (A forwarded request's late body parts
        /// and end, after Hummingbird already answered it, still go to Hummingbird.)
        case idle
        /// Hummingbird owes `unanswered` (at least one) responses, counted from each forwarded
        /// head to its response's `.end`: every request part goes to Hummingbird, so that its
        /// answers keep their place in line.
        case forwarding(unanswered: Int)
        /// A taken request's head was read; its end is awaited. A body part (a taken request
        /// has neither `Content-Length` nor `Transfer-Encoding`, so it has none) is dropped.
        case reading(Request)
        /// A taken request was read whole and its redemption started: everything inbound is
        /// held until it is answered.
        case awaiting
    }

    /// What arrived while a request waited, kept as it came until it is replayed.
    enum Held {
        case read(NIOAny)
        case error(any Error)
        case event(Any)
    }

    /// What the handler does with a request part.
    enum ReadAction {
        /// Pass it on to Hummingbird.
        case forward
        /// Nothing yet: a head the fast path took (it is kept in `reading`).
        case take
        /// Nothing: a body part of a taken request.
        case drop
        /// Nothing now: the part is held until the waiting request is answered.
        case hold
        /// Start the taken request's redemption; its answer comes back as `requestAnswered`.
        case start(Request)
    }

    /// What the handler does with an error or a user event.
    enum InboundAction {
        /// Pass it on.
        case forward
        /// Nothing now: it is held until the waiting request is answered.
        case hold
    }

    /// What the handler does with a `read()` from the pipeline.
    enum ReadRequestAction {
        /// Pass it on.
        case read
        /// Swallow it: reading pauses, and the replay after the answer resumes it.
        case pause
    }

    /// What the handler does once a fast-path request's answer is written.
    enum AnsweredAction {
        /// Nothing more.
        case none
        /// Replay what is held: call `nextReplayStep` until it says `finished`.
        case replayHeld
    }

    /// One step of replaying what was held.
    enum ReplayStep {
        /// Deliver this part again as if just read (through `read`: it may be taken, forwarded,
        /// or start another redemption, which ends the replay).
        case read(NIOAny)
        /// Pass this error on.
        case error(any Error)
        /// Pass this user event on.
        case event(Any)
        /// The replay is over: what was held is delivered, or another request now waits.
        /// `readComplete`: fire `channelReadComplete`, for parts replayed to Hummingbird (its
        /// inbound stream hands reads on at the end of a read burst, and a client that has sent
        /// everything makes no more bursts). `resumeReading`: issue the `read()` that was paused.
        case finished(readComplete: Bool, resumeReading: Bool)
    }

    /// Held parts past which reading pauses until the waiting request is answered. Pausing
    /// costs two `epoll_ctl` calls, so a client that sends one request at a time never pauses;
    /// one that pipelines many is held to about this many parts in memory.
    static let heldLimit = 16

    private(set) var state = State.idle
    /// What arrived while a request waited, in order.
    private(set) var held: [Held] = []
    /// A `read()` was swallowed while reading paused.
    private(set) var readPaused = false
    /// A replay is under way (between its first step and `finished`): an answer written during
    /// it, of a request it replayed and that was answered at once, leaves the rest to it.
    private var replaying = false
    /// The replay under way has delivered a read.
    private var replayedRead = false

    /// The requests this path takes, with the fields it reads; the rest go to Hummingbird
    /// (which answers 405, 413, 431…).
    static func takes(_ head: HTTPRequest) -> ShareFields? {
        guard head.method == .get, let path = head.path else { return nil }
        // Looked for as a byte: searching the `String` for a `Character` costs about a microsecond.
        let route = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { path[..<$0] } ?? path[...]
        guard route == "/v1/share" else { return nil }
        return ShareFields(head.headerFields)
    }

    private var awaiting: Bool {
        if case .awaiting = state { return true }
        return false
    }

    /// A request part was read. `part` is `data` unwrapped, looked at only when the part is not
    /// held (a held part is kept as it came).
    mutating func read(_ data: NIOAny, _ part: @autoclosure () -> HTTPRequestPart) -> ReadAction {
        if awaiting {
            held.append(.read(data))
            return .hold
        }
        switch part() {
        case .head(let head): return headRead(head)
        case .body: return bodyRead()
        case .end: return endRead()
        }
    }

    private mutating func headRead(_ head: HTTPRequest) -> ReadAction {
        if case .forwarding(let unanswered) = state {
            state = .forwarding(unanswered: unanswered + 1)
            return .forward
        }
        // `idle`, or `reading` (a head before the last one's end, which the decoder never sends).
        if let fields = Self.takes(head) {
            state = .reading(Request(head: head, fields: fields, started: .now))
            return .take
        }
        state = .forwarding(unanswered: 1)
        return .forward
    }

    private mutating func bodyRead() -> ReadAction {
        if case .reading = state { return .drop }
        return .forward
    }

    private mutating func endRead() -> ReadAction {
        guard case .reading(let request) = state else { return .forward }
        state = .awaiting
        return .start(request)
    }

    /// An error was caught.
    mutating func errorCaught(_ error: any Error) -> InboundAction {
        guard awaiting else { return .forward }
        held.append(.error(error))
        return .hold
    }

    /// A user inbound event was triggered.
    mutating func userInboundEventTriggered(_ event: Any) -> InboundAction {
        guard awaiting else { return .forward }
        held.append(.event(event))
        return .hold
    }

    /// The pipeline asked for a read.
    mutating func readRequested() -> ReadRequestAction {
        guard awaiting, held.count >= Self.heldLimit else { return .read }
        readPaused = true
        return .pause
    }

    /// A response's `.end` was written on its way out: Hummingbird answered one request. (The
    /// fast path's own answers are written past the handler and never come through here.)
    mutating func responseEndWritten() {
        guard case .forwarding(let unanswered) = state else { return }
        state = unanswered > 1 ? .forwarding(unanswered: unanswered - 1) : .idle
    }

    /// The waiting request's answer was written. (An answer for no waiting request cannot come:
    /// one redemption runs at a time; it would change nothing.)
    mutating func requestAnswered() -> AnsweredAction {
        guard awaiting else { return .none }
        state = .idle
        guard !replaying, !held.isEmpty || readPaused else { return .none }
        return .replayHeld
    }

    /// The next step of the replay `requestAnswered` asked for.
    mutating func nextReplayStep() -> ReplayStep {
        if !awaiting, !held.isEmpty {
            replaying = true
            switch held.removeFirst() {
            case .read(let data):
                replayedRead = true
                return .read(data)
            case .error(let error): return .error(error)
            case .event(let event): return .event(event)
            }
        }
        let step = ReplayStep.finished(readComplete: replayedRead, resumeReading: readPaused && !awaiting)
        if !awaiting { readPaused = false }
        replaying = false
        replayedRead = false
        return step
    }

    /// The channel went inactive: nobody is left to answer, and what was held is dropped.
    mutating func channelInactive() {
        held.removeAll()
    }

    /// The handler left the pipeline: what was held is dropped.
    mutating func handlerRemoved() {
        held.removeAll()
    }
}
