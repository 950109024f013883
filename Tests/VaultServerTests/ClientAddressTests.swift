import NIOCore
import Testing
@testable import VaultServer

@Suite struct ClientAddressTests {
    @Test(arguments: ["127.0.0.1", "10.20.30.40", "255.255.255.255", "0.0.0.0", "::1", "2001:db8::7"])
    func clientAddressesReadLikeNIOs(_ ip: String) throws {
        let address = try SocketAddress(ipAddress: ip, port: 4242)
        #expect(VaultRequestContext.ipText(address) == address.ipAddress)
        #expect(VaultRequestContext.ipText(address) == ip)
    }

    @Test func anUnknownPeerIsNamedSo() {
        #expect(VaultRequestContext.ipText(nil) == "unknown")
    }
}
