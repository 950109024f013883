import HTTPTypes
import Testing
@testable import VaultServer

/// The fast path's one-pass read of a request head (`ShareFields`, `ShareFastPathStateMachine.takes`): it
/// must take and read exactly what Hummingbird's path would.
@Suite struct ShareFieldsTests {
    func head(_ fields: HTTPFields, method: HTTPRequest.Method = .get, path: String = "/v1/share") -> HTTPRequest {
        HTTPRequest(method: method, scheme: nil, authority: nil, path: path, headerFields: fields)
    }

    @Test func namesMatchInAnyCaseAndRepeatedValuesAreJoined() throws {
        var fields = HTTPFields()
        fields.append(HTTPField(name: try #require(HTTPField.Name("AUTHORIZATION")), value: "Bearer t"))
        fields.append(HTTPField(name: try #require(HTTPField.Name("user-AGENT")), value: "probe"))
        fields.append(HTTPField(name: .ifNoneMatch, value: "\"v1\""))
        fields.append(HTTPField(name: .ifNoneMatch, value: "\"v2\""))
        let read = try #require(ShareFastPathStateMachine.takes(head(fields)))
        #expect(read.authorization == "Bearer t")
        #expect(read.userAgent == "probe")
        #expect(read.ifNoneMatch == fields[.ifNoneMatch])
        #expect(read.ifNoneMatch == "\"v1\", \"v2\"")
        #expect(read.authorization == fields[.authorization] && read.userAgent == fields[.userAgent])
    }

    @Test func requestsWithABodyOrConnectionHeaderGoToHummingbird() {
        for name in [HTTPField.Name.contentLength, .transferEncoding, .connection] {
            var fields: HTTPFields = [.authorization: "Bearer t", .userAgent: "a"]
            fields.append(HTTPField(name: .userAgent, value: "b"))
            fields.append(HTTPField(name: name, value: name == .contentLength ? "0" : "close"))
            #expect(ShareFastPathStateMachine.takes(head(fields)) == nil, "\(name)")
        }
    }

    @Test func otherMethodsAndPathsGoToHummingbirdAndTheQueryIsIgnored() {
        let fields: HTTPFields = [.authorization: "Bearer t"]
        #expect(ShareFastPathStateMachine.takes(head(fields, method: .head)) == nil)
        #expect(ShareFastPathStateMachine.takes(head(fields, method: .post)) == nil)
        #expect(ShareFastPathStateMachine.takes(head(fields, path: "/v1/shares")) == nil)
        #expect(ShareFastPathStateMachine.takes(head(fields, path: "/v1/share/")) == nil)
        #expect(ShareFastPathStateMachine.takes(head(fields, path: "/v1/share?x=1"))?.authorization == "Bearer t")
    }

    @Test func headersUpToTheLimitAreTakenAndOneByteMoreIsNot() throws {
        let auth = HTTPField(name: .authorization, value: "Bearer t")
        let padName = try #require(HTTPField.Name("x-pad"))
        let room = ServerLimits.maxHeaderBytes - ServerLimits.fieldBytes(auth) - ServerLimits.fieldBytes(HTTPField(name: padName, value: ""))
        for (extra, taken) in [(0, true), (1, false)] {
            var fields = HTTPFields([auth])
            fields.append(HTTPField(name: padName, value: String(repeating: "p", count: room + extra)))
            #expect(ServerLimits.headerBytes(fields) == ServerLimits.maxHeaderBytes + extra)
            #expect((ShareFastPathStateMachine.takes(head(fields)) != nil) == taken)
        }
    }
}
