public import Foundation

/// Debian's headless `chromium`, driven over W3C WebDriver through `chromedriver` (both from
/// the README's install command): a driver on a free loopback port, one browser session, and
/// the few commands the dashboard's tests need. `close()` ends both; so does deinit.
public final class Browser: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    let driver: Process
    let base: URL
    let sessionID: String
    let profile: TemporaryDirectory

    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    /// Paths of the two programs, or nil when either is missing.
    public static var programs: (browser: String, driver: String)? {
        let browsers = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
        let drivers = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        guard let browser = browsers.first(where: FileManager.default.isExecutableFile),
            let driver = drivers.first(where: FileManager.default.isExecutableFile)
        else { return nil }
        return (browser, driver)
    }

    /// Starts chromedriver and a headless browser with a fresh profile, `width` × `height`.
    public init(width: Int = 1280, height: Int = 900) async throws {
        guard let programs = Self.programs else {
            throw Failure(description: "chromium and chromedriver are not installed: apt-get install chromium chromium-driver (the README's first command)")
        }
        profile = TemporaryDirectory()
        let port = try freePort()
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: programs.driver)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        driver.standardInput = FileHandle.nullDevice
        let log = profile.file("chromedriver.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        driver.standardOutput = FileHandle(forWritingAtPath: log)
        driver.standardError = FileHandle(forWritingAtPath: log)
        try driver.run()
        guard let base = URL(string: "http://127.0.0.1:\(port)") else { throw Failure(description: "bad driver URL") }
        self.base = base
        // Ready within 60 s (a loaded machine starts it slowly).
        let deadline = Date().addingTimeInterval(60)
        var ready = false
        var last = "no answer"
        while Date() < deadline, driver.isRunning {
            do {
                let status = try await Self.call(base, "GET", "/status")
                if (status["value"] as? [String: Any])?["ready"] as? Bool == true {
                    ready = true
                    break
                }
                last = "\(status)"
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard ready else {
            kill(driver.processIdentifier, SIGKILL)
            throw Failure(description: "chromedriver did not start on port \(port): \(last); \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        let options: [String: Any] = [
            "binary": programs.browser,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)", "--hide-scrollbars", "--force-device-scale-factor=1",
            ],
        ]
        let capabilities: [String: Any] = [
            "capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": options, "goog:loggingPrefs": ["browser": "ALL"]]]
        ]
        let answer: [String: Any]
        do {
            answer = try await Self.call(base, "POST", "/session", capabilities)
        } catch {
            kill(driver.processIdentifier, SIGKILL)
            throw error
        }
        guard let value = answer["value"] as? [String: Any], let id = value["sessionId"] as? String else {
            kill(driver.processIdentifier, SIGKILL)
            throw Failure(description: "no browser session: \(answer)")
        }
        sessionID = id
    }

    deinit {
        if driver.isRunning { kill(driver.processIdentifier, SIGKILL) }
    }

    /// Ends the session (the browser quits) and the driver.
    public func close() async {
        _ = try? await Self.call(base, "DELETE", "/session/\(sessionID)")
        // SIGKILL: a test process that let ServiceLifecycle handle SIGTERM passes on an
        // ignored SIGTERM to its children.
        if driver.isRunning {
            kill(driver.processIdentifier, SIGKILL)
            driver.waitUntilExit()
        }
    }

    // MARK: Commands

    public func go(_ url: String) async throws { _ = try await command("POST", "/url", ["url": url]) }
    public func url() async throws -> String { try await command("GET", "/url") as? String ?? "" }
    public func title() async throws -> String { try await command("GET", "/title") as? String ?? "" }
    public func source() async throws -> String { try await command("GET", "/source") as? String ?? "" }

    /// Waits (up to 20 s) until the page's title is `title`, after a click that navigates.
    @discardableResult
    public func waitFor(title: String) async throws -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if try await self.title() == title { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    public func setWindow(width: Int, height: Int) async throws {
        _ = try await command("POST", "/window/rect", ["width": width, "height": height])
    }

    /// The first element matching `css`; throws when none does.
    public func element(_ css: String) async throws -> String {
        guard let value = try await command("POST", "/element", ["using": "css selector", "value": css]) as? [String: Any],
            let id = value[Self.elementKey] as? String
        else { throw Failure(description: "no element \(css)") }
        return id
    }

    public func elements(_ css: String) async throws -> [String] {
        let values = try await command("POST", "/elements", ["using": "css selector", "value": css]) as? [[String: Any]] ?? []
        return values.compactMap { $0[Self.elementKey] as? String }
    }

    public func click(_ element: String) async throws { _ = try await command("POST", "/element/\(element)/click", [:]) }
    public func text(_ element: String) async throws -> String { try await command("GET", "/element/\(element)/text") as? String ?? "" }
    public func attribute(_ element: String, _ name: String) async throws -> String? {
        try await command("GET", "/element/\(element)/attribute/\(name)") as? String
    }

    /// Runs `script` in the page (WebDriver's own channel; the page's CSP forbids the page any script).
    public func execute(_ script: String, _ args: [Any] = []) async throws -> Any? {
        try await command("POST", "/execute/sync", ["script": script, "args": args])
    }

    /// Presses the keys (WebDriver code points: "\u{E004}" is Tab, "\u{E007}" Enter).
    public func press(_ keys: String) async throws {
        var actions: [[String: Any]] = []
        for key in keys.unicodeScalars.map(String.init) {
            actions.append(["type": "keyDown", "value": key])
            actions.append(["type": "keyUp", "value": key])
        }
        _ = try await command("POST", "/actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
        _ = try await command("DELETE", "/actions")
    }

    /// A PNG of the whole viewport.
    public func screenshot() async throws -> Data {
        guard let text = try await command("GET", "/screenshot") as? String, let data = Data(base64Encoded: text) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    /// The browser console's messages since the last call (CSP violations land here).
    public func consoleMessages() async throws -> [String] {
        guard let entries = try await command("POST", "/se/log", ["type": "browser"]) as? [[String: Any]] else {
            throw Failure(description: "no console log from the driver")
        }
        return entries.compactMap { $0["message"] as? String }
    }

    /// Moves into the frame `element` (an iframe), or back to the page with nil.
    public func frame(_ element: String?) async throws {
        if let element {
            _ = try await command("POST", "/frame", ["id": [Self.elementKey: element]])
        } else {
            _ = try await command("POST", "/frame/parent", [:])
        }
    }

    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        let answer = try await Self.call(base, method, "/session/\(sessionID)" + path, body)
        if let value = answer["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "\(method) \(path): \(error): \((value["message"] as? String)?.prefix(300) ?? "")")
        }
        return answer["value"]
    }

    /// One WebDriver call, over `RawHTTP` (Foundation's URLSession on Linux fails on
    /// chromedriver's answers with "Failed writing header").
    static func call(_ base: URL, _ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        let port = base.port ?? 0
        let payload = try body.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        var headers = [("Host", "127.0.0.1:\(port)")]
        if payload != nil { headers.append(("Content-Type", "application/json")) }
        if let trace = ProcessInfo.processInfo.environment["VRM_WEBDRIVER_TRACE"] {
            if !FileManager.default.fileExists(atPath: trace) { FileManager.default.createFile(atPath: trace, contents: nil) }
            if let handle = FileHandle(forWritingAtPath: trace) {
                handle.seekToEndOfFile(); handle.write(Data("\(Date()) \(method) \(path)\n".utf8)); handle.closeFile()
            }
        }
        let reply = try await blocking { [headers] in
            try RawHTTP.send(port: port, method: method, target: path, headers: headers, body: payload, timeout: 120)
        }
        return try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any] ?? [:]
    }
}

/// A TCP port on 127.0.0.1 that is free now (bound, read, released).
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Browser.Failure(description: "socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
            guard bind(fd, pointer, length) == 0 else { return -1 }
            return getsockname(fd, pointer, &length)
        }
    }
    guard bound == 0 else { throw Browser.Failure(description: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Where the tests keep what a person should look at afterwards (the dashboard's
/// screenshots): `$VRM_TEST_ARTIFACTS`, else `test-artifacts/` in the package.
public func testArtifactsDirectory(_ sub: String) throws -> String {
    let root =
        ProcessInfo.processInfo.environment["VRM_TEST_ARTIFACTS"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("test-artifacts").path
    let path = root + "/" + sub
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
