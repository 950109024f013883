/// What is wrong with a markup file, with the line it is on.
struct MarkupError: Error, Equatable, CustomStringConvertible {
    var line: Int
    var reason: String

    /// Tag names in the reason come from the file: control characters are shown as `?`, so a
    /// crafted file cannot write escape sequences to the terminal.
    var description: String { "line \(line): \(ImportProblem.shown(reason, 300))" }
}

/// A small XML and SGML reader: elements, attributes, text, the five named entities and
/// numeric character references, comments, CDATA sections, processing instructions and
/// declarations (skipped). It builds the tree in one pass over the bytes, with nesting capped
/// at `maxDepth`.
///
/// In `sgml` mode (OFX 1.x) end tags may be left out: an element holding text is closed by
/// the next start tag, an end tag closes every element opened after its own start tag, an
/// end tag nothing matches is ignored, as is text outside the elements, an unknown entity or
/// a lone `&` (kept as written); names are upper-cased. At the end of the file, elements
/// holding only text are closed; any other open element means the file was cut short.
struct MarkupReader {
    static let maxDepth = 200

    private let bytes: [UInt8]
    private let sgml: Bool
    private var index = 0
    private var line = 1
    private var stack: [MarkupElement] = []
    private var textBuffers: [[UInt8]] = []
    private var roots: [MarkupElement] = []

    /// The top-level elements of `text` (a well-formed XML file has one).
    static func parse(_ text: String, sgml: Bool) throws -> [MarkupElement] {
        var reader = MarkupReader(bytes: Array(text.utf8), sgml: sgml)
        try reader.run()
        return reader.roots
    }

    private init(bytes: [UInt8], sgml: Bool) {
        self.bytes = bytes
        self.sgml = sgml
    }

    private func fail(_ reason: String, line: Int? = nil) -> MarkupError { MarkupError(line: line ?? self.line, reason: reason) }

    private mutating func run() throws {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "<") {
                try markup()
            } else {
                try text()
            }
        }
        while let open = stack.last {
            let hasText = textBuffers.last.map { $0.contains { !Self.isSpace($0) } } ?? false
            guard sgml, open.children.isEmpty, hasText else {
                // Name the innermost element that holds others (a transaction, an entry), not a
                // leaf the cut happened to fall in.
                let named = stack.last { !$0.children.isEmpty } ?? open
                throw fail("the file ends inside <\(named.name)> (opened on line \(named.line)); is it cut short?")
            }
            close()
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        !(isSpace(byte) || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "<")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'"))
    }

    private mutating func advance(to end: Int) {
        for byte in bytes[index..<end] where byte == 0x0A { line += 1 }
        index = end
    }

    /// The index of `terminator` at or after `from`, or nil.
    private func find(_ terminator: [UInt8], from: Int) -> Int? {
        guard let first = terminator.first else { return from }
        var i = from
        while i + terminator.count <= bytes.count {
            if bytes[i] == first, bytes[i..<i + terminator.count].elementsEqual(terminator) { return i }
            i += 1
        }
        return nil
    }

    private mutating func skip(until terminator: String, what: String) throws -> Range<Int> {
        let start = line
        guard let end = find(Array(terminator.utf8), from: index) else { throw fail("\(what) is never closed", line: start) }
        let body = index..<end
        advance(to: end + terminator.utf8.count)
        return body
    }

    private mutating func markup() throws {
        let rest = bytes[index...]
        if rest.starts(with: "<!--".utf8) {
            index += 4
            _ = try skip(until: "-->", what: "a comment")
        } else if rest.starts(with: "<![CDATA[".utf8) {
            index += 9
            let body = try skip(until: "]]>", what: "a CDATA section")
            try appendText(Array(bytes[body]))
        } else if rest.starts(with: "<?".utf8) {
            index += 2
            _ = try skip(until: "?>", what: "a processing instruction")
        } else if rest.starts(with: "<!".utf8) {
            try declaration()
        } else if rest.starts(with: "</".utf8) {
            try endTag()
        } else {
            try startTag()
        }
    }

    /// `<!DOCTYPE …>`, with an internal subset in brackets.
    private mutating func declaration() throws {
        let start = line
        var depth = 0, i = index + 2
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ">") where depth <= 0:
                advance(to: i + 1)
                return
            default: break
            }
            i += 1
        }
        throw fail("a <! declaration is never closed", line: start)
    }

    private func name(from start: Int) -> (String, Int) {
        var end = start
        while end < bytes.count, Self.isNameByte(bytes[end]) { end += 1 }
        var name = String(decoding: bytes[start..<end], as: UTF8.self)
        if let colon = name.lastIndex(of: ":") { name = String(name[name.index(after: colon)...]) }
        return (sgml ? name.uppercased() : name, end)
    }

    private mutating func endTag() throws {
        let (name, end) = name(from: index + 2)
        var i = end
        while i < bytes.count, Self.isSpace(bytes[i]) { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: ">"), !name.isEmpty else { throw fail("a malformed end tag") }
        advance(to: i + 1)
        guard let position = stack.lastIndex(where: { $0.name == name }) else {
            if sgml { return }
            throw fail("</\(name)> closes nothing that is open")
        }
        guard sgml || position == stack.count - 1 else {
            let open = stack[stack.count - 1]
            throw fail("</\(name)> closes <\(open.name)>, opened on line \(open.line)")
        }
        while stack.count > position { close() }
    }

    private mutating func startTag() throws {
        let tagLine = line
        let (name, end) = name(from: index + 1)
        guard !name.isEmpty else {
            if sgml {
                advance(to: index + 1)
                try appendText([UInt8(ascii: "<")])
                return
            }
            throw fail("a '<' that starts no tag (write &lt; for a literal '<')")
        }
        var i = end
        var attributes: [String: String] = [:]
        var selfClosing = false
        while true {
            while i < bytes.count, Self.isSpace(bytes[i]) { i += 1 }
            guard i < bytes.count else { throw fail("the tag <\(name)> is never closed", line: tagLine) }
            if bytes[i] == UInt8(ascii: ">") {
                i += 1
                break
            }
            if bytes[i] == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ">") {
                selfClosing = true
                i += 2
                break
            }
            let rawStart = i
            while i < bytes.count, Self.isNameByte(bytes[i]) { i += 1 }
            guard i > rawStart else { throw fail("a malformed attribute in <\(name)>", line: tagLine) }
            var attribute = String(decoding: bytes[rawStart..<i], as: UTF8.self)
            if !attribute.hasPrefix("xmlns"), let colon = attribute.lastIndex(of: ":") {
                attribute = String(attribute[attribute.index(after: colon)...])
            }
            while i < bytes.count, Self.isSpace(bytes[i]) { i += 1 }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                guard sgml else { throw fail("the attribute \(attribute) in <\(name)> has no value", line: tagLine) }
                attributes[attribute] = ""
                continue
            }
            i += 1
            while i < bytes.count, Self.isSpace(bytes[i]) { i += 1 }
            guard i < bytes.count else { throw fail("the tag <\(name)> is never closed", line: tagLine) }
            let quote = bytes[i]
            var valueBytes: ArraySlice<UInt8>
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                guard let close = bytes[(i + 1)...].firstIndex(of: quote) else { throw fail("an attribute value in <\(name)> is never closed", line: tagLine) }
                valueBytes = bytes[(i + 1)..<close]
                i = close + 1
            } else {
                guard sgml else { throw fail("the attribute \(attribute) in <\(name)> needs quotes", line: tagLine) }
                let from = i
                while i < bytes.count, !Self.isSpace(bytes[i]), bytes[i] != UInt8(ascii: ">") { i += 1 }
                valueBytes = bytes[from..<i]
            }
            attributes[attribute] = String(decoding: try decodeEntities(valueBytes), as: UTF8.self)
        }
        advance(to: i)
        if sgml, let open = stack.last, open.children.isEmpty, textBuffers.last?.contains(where: { !Self.isSpace($0) }) == true {
            close()
        }
        guard stack.count < Self.maxDepth else { throw fail("elements are nested deeper than \(Self.maxDepth) levels", line: tagLine) }
        stack.append(MarkupElement(name: name, attributes: attributes, line: tagLine))
        textBuffers.append([])
        if selfClosing { close() }
    }

    private mutating func close() {
        guard var element = stack.popLast(), let text = textBuffers.popLast() else { return }
        element.text = String(decoding: text, as: UTF8.self)
        if stack.isEmpty {
            roots.append(element)
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    private mutating func text() throws {
        let start = index
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "<") { end += 1 }
        let startLine = line
        advance(to: end)
        let raw = bytes[start..<end]
        guard !stack.isEmpty else {
            if !sgml, raw.contains(where: { !Self.isSpace($0) }) { throw fail("text outside the root element", line: startLine) }
            return
        }
        let previous = line
        line = startLine
        defer { line = previous }
        try appendText(try decodeEntities(raw))
    }

    private mutating func appendText(_ text: [UInt8]) throws {
        guard !stack.isEmpty else {
            if !sgml, text.contains(where: { !Self.isSpace($0) }) { throw fail("text outside the root element") }
            return
        }
        textBuffers[textBuffers.count - 1].append(contentsOf: text)
    }

    /// Replaces entity and character references; in SGML mode an unknown one stays as written.
    private func decodeEntities(_ raw: ArraySlice<UInt8>) throws -> [UInt8] {
        guard raw.contains(UInt8(ascii: "&")) else { return Array(raw) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let byte = raw[i]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                i += 1
                continue
            }
            let limit = min(raw.endIndex, i + 12)
            if let semicolon = raw[i..<limit].firstIndex(of: UInt8(ascii: ";")),
                let replacement = Self.entity(String(decoding: raw[(i + 1)..<semicolon], as: UTF8.self))
            {
                out.append(contentsOf: replacement)
                i = semicolon + 1
                continue
            }
            guard sgml else {
                let name = raw[i..<limit].prefix { $0 != UInt8(ascii: ";") && !Self.isSpace($0) }
                let shown = String(decoding: name, as: UTF8.self) + (raw[i..<limit].dropFirst(name.count).first == UInt8(ascii: ";") ? ";" : "")
                throw fail("an unknown or malformed entity \"\(ImportProblem.shown(shown, 12))\"; write &amp; for a literal '&'")
            }
            out.append(byte)
            i += 1
        }
        return out
    }

    private static func entity(_ name: String) -> [UInt8]? {
        switch name {
        case "amp": return [UInt8(ascii: "&")]
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default:
            guard name.hasPrefix("#") else { return nil }
            let digits = name.dropFirst()
            let value = digits.hasPrefix("x") || digits.hasPrefix("X") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            guard let value, value != 0, let scalar = Unicode.Scalar(value) else { return nil }
            return Array(String(Character(scalar)).utf8)
        }
    }
}
