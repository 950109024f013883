import Foundation

/// The JSON-LD of an HTML page or an e-mail message (`Specs/import.md` §7.2): the
/// `<script type="application/ld+json">` blocks of its HTML, and for a message (MIME) every
/// part decoded first — multipart bodies, quoted-printable or base64, the part's charset.
enum MailText {
    /// Nesting of multipart bodies and attached messages that is read.
    static let maxDepth = 12

    /// The contents of every `<script type="application/ld+json">` element, in order.
    static func jsonLDScripts(inHTML html: String) -> [String] {
        let bytes = Array(html.utf8)
        let lower = bytes.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
        var scripts: [String] = []
        var from = 0
        while let start = find(Array("<script".utf8), in: lower, from: from) {
            guard let tagEnd = lower[(start + 7)...].firstIndex(of: UInt8(ascii: ">")) else { break }
            let bodyStart = tagEnd + 1
            let close = find(Array("</script".utf8), in: lower, from: bodyStart) ?? bytes.count
            let tag = String(decoding: lower[(start + 7)..<tagEnd], as: UTF8.self)
            if type(inTag: tag) == "application/ld+json" {
                scripts.append(String(decoding: bytes[bodyStart..<close], as: UTF8.self))
            }
            from = close
        }
        return scripts
    }

    /// The value of a tag's `type` attribute, lower-cased, without parameters.
    static func type(inTag tag: String) -> String? {
        var rest = Substring(tag)
        while let range = rest.range(of: "type") {
            let before = rest[..<range.lowerBound].last
            var after = rest[range.upperBound...].drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
            rest = rest[range.upperBound...]
            guard before.map({ $0.isWhitespace || $0 == "\"" || $0 == "'" }) ?? true, after.first == "=" else { continue }
            after = after.dropFirst().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
            var value: Substring
            if let quote = after.first, quote == "\"" || quote == "'" {
                value = after.dropFirst().prefix { $0 != quote }
            } else {
                value = after.prefix { !$0.isWhitespace && $0 != ">" }
            }
            if let semicolon = value.firstIndex(of: ";") { value = value[..<semicolon] }
            return value.trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Whether `bytes` start like an e-mail message: header lines, one of them Content-Type.
    static func looksLikeMessage(_ bytes: [UInt8]) -> Bool {
        let head = String(decoding: bytes.prefix(8192), as: UTF8.self)
        guard let firstLine = head.split(separator: "\n", maxSplits: 1).first,
            let colon = firstLine.firstIndex(of: ":"),
            firstLine[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { return false }
        let headers = head.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n").first ?? head
        return headers.lowercased().contains("content-type:") || headers.lowercased().contains("mime-version:")
    }

    /// The JSON-LD blocks of a message: each leaf part decoded; a JSON part whole, any other
    /// searched for script elements.
    static func jsonLDBlocks(inMessage bytes: [UInt8]) -> [String] {
        var blocks: [String] = []
        collect(ArraySlice(bytes), depth: 0, into: &blocks)
        return blocks
    }

    private static func collect(_ part: ArraySlice<UInt8>, depth: Int, into blocks: inout [String]) {
        guard depth < maxDepth else { return }
        let (headers, body) = split(part)
        let contentType = headers["content-type"] ?? "text/plain"
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "text/plain"
        if type.hasPrefix("multipart/"), let boundary = parameter("boundary", in: contentType) {
            for inner in parts(of: body, boundary: boundary) { collect(inner, depth: depth + 1, into: &blocks) }
            return
        }
        let decoded = decode(body, transfer: headers["content-transfer-encoding"])
        if type == "message/rfc822" {
            collect(ArraySlice(decoded), depth: depth + 1, into: &blocks)
            return
        }
        let text = charsetText(decoded, charset: parameter("charset", in: contentType))
        if type.contains("json") {
            blocks.append(text)
        } else {
            blocks += jsonLDScripts(inHTML: text)
        }
    }

    /// Headers (names lower-cased, folded lines joined) and the body after the first blank line.
    static func split(_ part: ArraySlice<UInt8>) -> ([String: String], ArraySlice<UInt8>) {
        var headers: [String: String] = [:]
        var lines: [String] = []
        var index = part.startIndex
        var bodyStart = part.endIndex
        while index < part.endIndex {
            let end = part[index...].firstIndex(of: 0x0A) ?? part.endIndex
            var line = part[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            index = min(end + 1, part.endIndex)
            if line.isEmpty {
                bodyStart = index
                break
            }
            let text = String(decoding: line, as: UTF8.self)
            if let first = text.first, first == " " || first == "\t", !lines.isEmpty {
                lines[lines.count - 1] += " " + text.trimmingCharacters(in: .whitespaces)
            } else {
                lines.append(text)
            }
        }
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            if headers[name] == nil { headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return (headers, part[bodyStart...])
    }

    /// `name=value` or `name="value"` in a header's parameters.
    static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// The parts between `--boundary` lines.
    static func parts(of body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var current: Int?
        var index = body.startIndex
        while index < body.endIndex {
            let end = body[index...].firstIndex(of: 0x0A) ?? body.endIndex
            var line = body[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            if line.starts(with: delimiter) {
                if let start = current { parts.append(body[start..<index]) }
                let rest = line.dropFirst(delimiter.count)
                if rest.starts(with: "--".utf8) { return parts }
                current = min(end + 1, body.endIndex)
            }
            index = min(end + 1, body.endIndex)
            if end == body.endIndex { break }
        }
        if let start = current, start < body.endIndex { parts.append(body[start..<body.endIndex]) }
        return parts
    }

    /// Undoes quoted-printable or base64; anything else is taken as it is.
    static func decode(_ body: ArraySlice<UInt8>, transfer: String?) -> [UInt8] {
        switch transfer?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "quoted-printable": return quotedPrintable(body)
        case "base64":
            let text = String(decoding: body, as: UTF8.self)
            return Data(base64Encoded: text, options: .ignoreUnknownCharacters).map { Array($0) } ?? []
        default: return Array(body)
        }
    }

    static func quotedPrintable(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var i = body.startIndex
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        while i < body.endIndex {
            let byte = body[i]
            guard byte == UInt8(ascii: "=") else {
                out.append(byte)
                i += 1
                continue
            }
            if i + 1 < body.endIndex, body[i + 1] == 0x0A {
                i += 2
            } else if i + 2 < body.endIndex, body[i + 1] == 0x0D, body[i + 2] == 0x0A {
                i += 3
            } else if i + 2 < body.endIndex, let high = hex(body[i + 1]), let low = hex(body[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(byte)
                i += 1
            }
        }
        return out
    }

    /// A part's text: UTF-8 (and ASCII) as UTF-8, Latin-1 and Windows-1252 as Windows-1252;
    /// bytes that are not valid in UTF-8 fall back to Windows-1252.
    static func charsetText(_ bytes: [UInt8], charset: String?) -> String {
        switch charset?.lowercased() {
        case "iso-8859-1", "latin1", "iso8859-1", "windows-1252", "cp1252", "iso-8859-15": return ImportText.windows1252(bytes)
        default: return String(validating: bytes, as: UTF8.self) ?? ImportText.windows1252(bytes)
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, from < haystack.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i] == first, haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
