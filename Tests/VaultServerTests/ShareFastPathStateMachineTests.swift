import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Testing
@testable import VaultServer

/// `ShareFastPathStateMachine` on its own, without a channel: every state × event, then the
/// pausing of reads and the replay of what was held.
@Suite struct ShareFastPathStateMachineTests {
    typealias Machine = ShareFastPathStateMachine

    /// A state, as reached by the events that lead there.
    enum Start: String, Sendable, CaseIterable {
        case idle, forwarding, forwardingTwo, reading, awaiting

        func machine() -> Machine {
            var machine = Machine()
            switch self {
            case .idle: break
            case .forwarding: _ = machine.read(Part.head("/livez"))
            case .forwardingTwo: _ = machine.read(Part.head("/livez")); _ = machine.read(Part.head("/v1/share"))
            case .reading: _ = machine.read(Part.head("/v1/share"))
            case .awaiting: _ = machine.read(Part.head("/v1/share")); _ = machine.read(Part.end)
            }
            return machine
        }
    }

    /// An event, as the handler would feed it.
    enum Event: String, Sendable, CaseIterable {
        case takenHead, otherHead, body, end, error, userEvent, readRequested, responseEndWritten, requestAnswered, channelInactive

        /// Feeds the event; what the machine said to do, in words.
        func feed(_ machine: inout Machine) -> String {
            switch self {
            case .takenHead: return describe(machine.read(Part.head("/v1/share")))
            case .otherHead: return describe(machine.read(Part.head("/livez")))
            case .body: return describe(machine.read(Part.body))
            case .end: return describe(machine.read(Part.end))
            case .error: return "\(machine.errorCaught(Failure.parse))"
            case .userEvent: return "\(machine.userInboundEventTriggered(Failure.parse))"
            case .readRequested: return "\(machine.readRequested())"
            case .responseEndWritten: machine.responseEndWritten(); return "-"
            case .requestAnswered: return "\(machine.requestAnswered())"
            case .channelInactive: machine.channelInactive(); return "-"
            }
        }
    }

    /// One row of the decision table: in `start`, `event` gives `action` and leads to `next`.
    struct Row: Sendable, CustomTestStringConvertible {
        let start: Start
        let event: Event
        let action: String
        let next: String
        var testDescription: String { "\(start) + \(event) -> \(action), \(next)" }
    }

    static let table: [Row] = [
        Row(start: .idle, event: .takenHead, action: "take", next: "reading"),
        Row(start: .idle, event: .otherHead, action: "forward", next: "forwarding(1)"),
        Row(start: .idle, event: .body, action: "forward", next: "idle"),
        Row(start: .idle, event: .end, action: "forward", next: "idle"),
        Row(start: .idle, event: .error, action: "forward", next: "idle"),
        Row(start: .idle, event: .userEvent, action: "forward", next: "idle"),
        Row(start: .idle, event: .readRequested, action: "read", next: "idle"),
        Row(start: .idle, event: .responseEndWritten, action: "-", next: "idle"),
        Row(start: .idle, event: .requestAnswered, action: "none", next: "idle"),
        Row(start: .idle, event: .channelInactive, action: "-", next: "idle"),

        Row(start: .forwarding, event: .takenHead, action: "forward", next: "forwarding(2)"),
        Row(start: .forwarding, event: .otherHead, action: "forward", next: "forwarding(2)"),
        Row(start: .forwarding, event: .body, action: "forward", next: "forwarding(1)"),
        Row(start: .forwarding, event: .end, action: "forward", next: "forwarding(1)"),
        Row(start: .forwarding, event: .error, action: "forward", next: "forwarding(1)"),
        Row(start: .forwarding, event: .userEvent, action: "forward", next: "forwarding(1)"),
        Row(start: .forwarding, event: .readRequested, action: "read", next: "forwarding(1)"),
        Row(start: .forwarding, event: .responseEndWritten, action: "-", next: "idle"),
        Row(start: .forwarding, event: .requestAnswered, action: "none", next: "forwarding(1)"),
        Row(start: .forwarding, event: .channelInactive, action: "-", next: "forwarding(1)"),
        Row(start: .forwardingTwo, event: .responseEndWritten, action: "-", next: "forwarding(1)"),

        Row(start: .reading, event: .takenHead, action: "take", next: "reading"),
        Row(start: .reading, event: .otherHead, action: "forward", next: "forwarding(1)"),
        Row(start: .reading, event: .body, action: "drop", next: "reading"),
        Row(start: .reading, event: .end, action: "start /v1/share", next: "awaiting"),
        Row(start: .reading, event: .error, action: "forward", next: "reading"),
        Row(start: .reading, event: .userEvent, action: "forward", next: "reading"),
        Row(start: .reading, event: .readRequested, action: "read", next: "reading"),
        Row(start: .reading, event: .responseEndWritten, action: "-", next: "reading"),
        Row(start: .reading, event: .requestAnswered, action: "none", next: "reading"),
        Row(start: .reading, event: .channelInactive, action: "-", next: "reading"),

        Row(start: .awaiting, event: .takenHead, action: "hold", next: "awaiting"),
        Row(start: .awaiting, event: .otherHead, action: "hold", next: "awaiting"),
        Row(start: .awaiting, event: .body, action: "hold", next: "awaiting"),
        Row(start: .awaiting, event: .end, action: "hold", next: "awaiting"),
        Row(start: .awaiting, event: .error, action: "hold", next: "awaiting"),
        Row(start: .awaiting, event: .userEvent, action: "hold", next: "awaiting"),
        // Below `heldLimit` held parts, reading goes on.
        Row(start: .awaiting, event: .readRequested, action: "read", next: "awaiting"),
        Row(start: .awaiting, event: .responseEndWritten, action: "-", next: "awaiting"),
        Row(start: .awaiting, event: .requestAnswered, action: "none", next: "idle"),
        Row(start: .awaiting, event: .channelInactive, action: "-", next: "awaiting"),
    ]

    @Test func theTableCoversEveryStateAndEvent() {
        let covered = Set(Self.table.map { "\($0.start) \($0.event)" })
        for start in Start.allCases where start != .forwardingTwo {
            for event in Event.allCases { #expect(covered.contains("\(start) \(event)"), "\(start) \(event)") }
        }
    }

    @Test(arguments: ShareFastPathStateMachineTests.table) func eachEventInEachStateGivesItsActionAndNextState(_ row: Row) {
        var machine = row.start.machine()
        #expect(row.event.feed(&machine) == row.action)
        #expect(describe(machine.state) == row.next)
        // Only a waiting request holds anything.
        let holds = row.start == .awaiting && row.action == "hold"
        #expect(machine.held.count == (holds ? 1 : 0))
    }

    @Test func readsPauseOnceHeldLimitPartsAreHeldAndResumeWhenTheReplayEnds() {
        var machine = Start.awaiting.machine()
        for _ in 0..<(Machine.heldLimit - 1) { _ = machine.read(Part.body) }
        #expect(machine.readRequested() == .read)
        _ = machine.read(Part.body)
        #expect(machine.readRequested() == .pause)
        #expect(machine.readPaused)
        #expect(machine.requestAnswered() == .replayHeld)
        var steps = 0
        while case .read = machine.nextReplayStep() { steps += 1 }
        #expect(steps == Machine.heldLimit)
        #expect(!machine.readPaused)
    }

    @Test func whatWasHeldIsReplayedInOrderAndTheReplaySaysToCompleteTheReadAndResume() {
        var machine = Start.awaiting.machine()
        _ = machine.read(Part.head("/livez"))
        _ = machine.errorCaught(Failure.parse)
        _ = machine.userInboundEventTriggered(Failure.closed)
        _ = machine.read(Part.end)
        for _ in 0..<(Machine.heldLimit - 4) { _ = machine.read(Part.body) }
        #expect(machine.readRequested() == .pause)
        #expect(machine.requestAnswered() == .replayHeld)
        var seen: [String] = []
        while true {
            let step = machine.nextReplayStep()
            if case .read(let data) = step { _ = machine.read(data, ShareFastPath.unwrapInboundIn(data)) }
            seen.append(describe(step))
            if case .finished = step { break }
        }
        #expect(Array(seen.prefix(4)) == ["read head /livez", "error parse", "event closed", "read end"])
        #expect(seen.count == Machine.heldLimit + 1)
        #expect(seen.last == "finished(readComplete: true, resumeReading: true)")
        #expect(describe(machine.state) == "forwarding(1)")
    }

    @Test func theReplayStopsWhenAReplayedRequestWaitsAndGoesOnAfterItsAnswer() {
        var machine = Start.awaiting.machine()
        for part in [Part.head("/v1/share"), Part.end, Part.head("/livez"), Part.end] { _ = machine.read(part) }
        #expect(machine.requestAnswered() == .replayHeld)
        var actions: [String] = []
        func replay() -> String {
            while true {
                let step = machine.nextReplayStep()
                guard case .read(let data) = step else { return describe(step) }
                actions.append(describe(machine.read(data, ShareFastPath.unwrapInboundIn(data))))
            }
        }
        #expect(replay() == "finished(readComplete: true, resumeReading: false)")
        #expect(actions == ["take", "start /v1/share"])
        #expect(describe(machine.state) == "awaiting" && machine.held.count == 2)
        #expect(machine.requestAnswered() == .replayHeld)
        #expect(replay() == "finished(readComplete: true, resumeReading: false)")
        #expect(actions == ["take", "start /v1/share", "forward", "forward"])
        #expect(describe(machine.state) == "forwarding(1)" && machine.held.isEmpty)
    }

    @Test func anAnswerWrittenDuringAReplayLeavesTheRestToThatReplay() {
        var machine = Start.awaiting.machine()
        for part in [Part.head("/v1/share"), Part.end, Part.head("/livez")] { _ = machine.read(part) }
        #expect(machine.requestAnswered() == .replayHeld)
        for _ in 0..<2 {
            guard case .read(let data) = machine.nextReplayStep() else { Issue.record("expected a replayed read"); return }
            _ = machine.read(data, ShareFastPath.unwrapInboundIn(data))
        }
        // The replayed request was answered at once (a rate-limited client): no second replay.
        #expect(machine.requestAnswered() == .none)
        guard case .read(let data) = machine.nextReplayStep() else { Issue.record("expected a replayed read"); return }
        #expect(describe(machine.read(data, ShareFastPath.unwrapInboundIn(data))) == "forward")
        #expect(describe(machine.nextReplayStep()) == "finished(readComplete: true, resumeReading: false)")
    }

    @Test func channelInactiveAndHandlerRemovedDropWhatIsHeldButAPausedReadIsStillResumed() {
        var machine = Start.awaiting.machine()
        for _ in 0..<Machine.heldLimit { _ = machine.read(Part.body) }
        #expect(machine.readRequested() == .pause)
        machine.channelInactive()
        #expect(machine.held.isEmpty)
        #expect(machine.requestAnswered() == .replayHeld)
        #expect(describe(machine.nextReplayStep()) == "finished(readComplete: false, resumeReading: true)")

        var removed = Start.awaiting.machine()
        _ = removed.read(Part.head("/livez"))
        removed.handlerRemoved()
        #expect(removed.held.isEmpty)
        #expect(removed.requestAnswered() == .none)
    }

    @Test func anAnsweredRequestWithNothingHeldAsksForNoReplay() {
        var machine = Start.awaiting.machine()
        #expect(machine.readRequested() == .read)
        #expect(machine.requestAnswered() == .none)
        #expect(describe(machine.state) == "idle")
    }
}

/// Request parts for the tests, each with the `NIOAny` the handler would pass.
enum Part {
    static func head(_ path: String, _ fields: HTTPFields = [.authorization: "Bearer t"]) -> HTTPRequestPart {
        .head(HTTPRequest(method: .get, scheme: nil, authority: nil, path: path, headerFields: fields))
    }

    static let body = HTTPRequestPart.body(ByteBuffer(string: "x"))
    static let end = HTTPRequestPart.end(nil)
}

/// Errors and events that say which they are.
enum Failure: Error, Sendable, CustomStringConvertible {
    case parse, closed
    var description: String { self == .parse ? "parse" : "closed" }
}

extension ShareFastPathStateMachine {
    /// Feeds a part as the handler does.
    mutating func read(_ part: HTTPRequestPart) -> ReadAction {
        read(NIOAny(part), part)
    }
}

/// A request part in words: "head /path", "body", "end".
func describe(_ part: HTTPRequestPart) -> String {
    switch part {
    case .head(let head): "head \(head.path ?? "")"
    case .body: "body"
    case .end: "end"
    }
}

func describe(_ action: ShareFastPathStateMachine.ReadAction) -> String {
    switch action {
    case .forward: "forward"
    case .take: "take"
    case .drop: "drop"
    case .hold: "hold"
    case .start(let request): "start \(request.head.path ?? "")"
    }
}

func describe(_ state: ShareFastPathStateMachine.State) -> String {
    switch state {
    case .idle: "idle"
    case .forwarding(let unanswered): "forwarding(\(unanswered))"
    case .reading: "reading"
    case .awaiting: "awaiting"
    }
}

func describe(_ step: ShareFastPathStateMachine.ReplayStep) -> String {
    switch step {
    case .read(let data): "read " + describe(ShareFastPath.unwrapInboundIn(data))
    case .error(let error): "error \(error)"
    case .event(let event): "event \(event)"
    case .finished(let readComplete, let resumeReading): "finished(readComplete: \(readComplete), resumeReading: \(resumeReading))"
    }
}
