import Dispatch
public import Foundation
public import Hummingbird
public import Logging
public import VaultCore
public import VaultServer

/// The relay's HTTP application: `GET /v1/share` for every enrolled vault (the vendor contract
/// of `vrm serve`, unchanged), the JWK Set of the token's vault, `/livez`, `/readyz` (ready only
/// while PostgreSQL answers) and the control API. Access-log lines name no client.
public func buildRelayApplication(
    database: RelayDatabase, options: ServerOptions, clock: @escaping VaultClock = { Date() },
    accessLog: AccessLog = AccessLog(), logger: Logger = Logger(label: "vrm.relay", factory: ServerLogHandler.init),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let service = RelayShareService(database: database, clock: clock)
    let routes = RelayRoutes(database: database, service: service, clock: clock)
    return try buildShareApplication(
        service: service, requests: RelayRequestInbox(database: database), options: options, clock: clock, accessLog: accessLog.withoutClients(),
        logger: logger,
        controlRoutes: true, routes: { routes.register(on: $0) }, onServerRunning: onServerRunning)
}

/// Destroys shares the relay may no longer serve (expired grants) every `interval`, on a
/// thread of its own, until `stop`. Revoked and used-up grants lose theirs in the transaction
/// that revokes or uses them up.
public final class RelaySweeper {
    private let timer: any DispatchSourceTimer

    public init(database: RelayDatabase, interval: TimeInterval = 5, clock: @escaping VaultClock = { Date() }, logger: Logger) {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "vrm.relay.sweeper"))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler {
            do {
                let destroyed = try database.sweep(nowMillis: Millis.from(clock()))
                if destroyed > 0 { logger.info("destroyed the shares of \(destroyed) expired grant(s)") }
            } catch {
                logger.warning("sweep failed: \(error)")
            }
        }
        timer.resume()
        self.timer = timer
    }

    public func stop() {
        timer.cancel()
    }
}
