import Hummingbird
import Logging

extension Problem {
    /// The one 500 answer of both server paths (`EdgeResponder` and `ShareFastPath`), for a
    /// failure no other answer covers: logs `request failed` with the failure's kind — the
    /// status of an `HTTPResponseError`, otherwise the error's type — and answers
    /// `internalError`. The error's text is never logged: it could carry a path or a storage
    /// detail (never a token), and the kind is enough for an operator.
    static func requestFailed(_ error: any Error, logger: Logger) -> ShareAnswer {
        if let error = error as? any HTTPResponseError {
            logger.error("request failed", metadata: ["status": "\(error.status.code)"])
        } else {
            logger.error("request failed", metadata: ["error": "\(Swift.type(of: error))"])
        }
        return internalError.answer()
    }
}
