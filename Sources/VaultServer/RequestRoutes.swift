import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VaultCore

/// `POST /v1/requests` and `GET /v1/requests/{id}` (`Specs/requests.md` §2, §4), the same at
/// `vrm serve` and the relay: the inbox differs. Unknown codes and unknown ids count against
/// the client's failure budget like wrong tokens (429 past it).
struct RequestRoutes: Sendable {
    let inbox: any RequestInbox
    let endpoint: ShareEndpoint
    let clock: VaultClock

    func register(on router: Router<VaultRequestContext>) {
        router.post(RouterPath(Routes.requests)) { request, context in try await ask(request, context: context) }
        router.get(RouterPath(Routes.requests + "/:id")) { request, context in try await outcome(request, context: context) }
    }

    private func ask(_ request: Request, context: VaultRequestContext) async throws -> Response {
        let body: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: RequestLimits.maxBodyBytes)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw ProblemError(problem: .requestTooLarge, extraHeaders: [.connection: "close"])
        }
        // A body that is not a JSON object holds no code: the same 403 as a wrong code, counted
        // (429 past the budget), whatever else it is.
        let submission =
            (try? JSONDecoder().decode(RequestSubmission.self, from: Data(body)))
            ?? RequestSubmission(selector: "", auth: "", sealed: "", mac: "", proof: "")
        let inbox = self.inbox
        let now = Millis.from(clock())
        let id = try await limited(request, context: context) {
            let (code, body) = try submission.parsed()
            return try inbox.receive(code: code, body: body, nowMillis: now)
        }
        let answer = try JSONEncoder().encode(RequestOutcome(id: id, status: .pending))
        return Response(
            status: .created,
            headers: [.contentType: "application/json", .cacheControl: "no-store", .location: Routes.requests + "/" + id],
            body: .init(byteBuffer: ByteBuffer(bytes: answer)))
    }

    private func outcome(_ request: Request, context: VaultRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let inbox = self.inbox
        let now = Millis.from(clock())
        let outcome = try await limited(request, context: context) { try inbox.outcome(id: id, nowMillis: now) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(outcome))))
    }

    /// Runs `work` off the cooperative pool under the client's failure budget: a wrong code or
    /// id is a failure, like a wrong token; a client over the budget gets 429 at once.
    private func limited<T: Sendable>(
        _ request: Request, context: VaultRequestContext, _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        let client = endpoint.client(
            peer: context.clientAddress, forwarded: ShareFields.forwardedName.flatMap { request.headers[$0] },
            forwardedFor: ShareFields.forwardedForName.flatMap { request.headers[$0] })
        let limiter = endpoint.limiter
        let admission = limiter.reserve(client: client)
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            ShareRoutes.databaseQueue.async { continuation.resume(returning: Result { try work() }) }
        }
        // Over the budget, a genuine code or id is answered all the same (as a genuine token
        // is): others' failures from the same address do not lock a vendor out.
        if case .limited(let retryAfter) = admission {
            if case .success(let value) = result { return value }
            if case .failure(let error as ProblemError) = result { throw error }
            throw ProblemError(problem: .rateLimited, extraHeaders: [.retryAfter: String(retryAfter)])
        }
        switch result {
        case .success(let value):
            limiter.settle(admission, failed: false)
            return value
        case .failure(let refusal as RequestRefusal):
            limiter.settle(admission, failed: refusal == .invalidCode || refusal == .unknownRequest)
            switch refusal {
            case .invalidCode: throw ProblemError(problem: .invalidRequestCode)
            case .unknownRequest: throw ProblemError(problem: .unknownRequest)
            case .invalidBody: throw ProblemError(problem: .invalidBody)
            }
        case .failure(let error):
            limiter.settle(admission, failed: false)
            if error is ProblemError { throw error }
            throw ProblemError(problem: .notReady)
        }
    }
}
