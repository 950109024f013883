import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Responses: pages, refusals, redirects and the two embedded assets.
enum Pages {
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func refusal(status: HTTPResponse.Status, title: String, message: String) -> Response {
        html(Layout.bare(title: title, message: message), status: status)
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// An `application/x-www-form-urlencoded` body, at most 64 KiB.
struct FormBody {
    static let maxBytes = 64 * 1024
    private(set) var fields: [(name: String, value: String)] = []

    static func read(_ request: Request) async throws -> FormBody {
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw HTTPError(.unsupportedMediaType, message: "An action is sent as a form from the dashboard's pages.")
        }
        var buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch {
            throw HTTPError(.contentTooLarge, message: "The form is larger than 64 KiB.")
        }
        return FormBody(String(decoding: buffer.readBytes(length: buffer.readableBytes) ?? [], as: UTF8.self))
    }

    init(_ text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    func first(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
    /// The field, trimmed; nil when absent or empty.
    func text(_ name: String) -> String? {
        guard let value = first(name)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
