import Foundation

/// The text encodings an import reads (`Specs/import.md` §2.1).
public enum ImportEncoding: String, Sendable, CaseIterable {
    /// UTF-8; one leading byte-order mark is dropped by the readers.
    case utf8 = "utf-8"
    /// Windows code page 1252, a superset of ISO 8859-1's printable characters; also used
    /// for files that say `latin1` or `iso-8859-1`.
    case windows1252 = "windows-1252"

    /// `utf-8`/`utf8`, `windows-1252`/`cp1252`/`latin1`/`iso-8859-1`, any case; nil otherwise.
    public init?(name: String) {
        switch name.trimmingCharacters(in: .whitespaces).lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "windows-1252", "cp1252", "latin1", "latin-1", "iso-8859-1", "iso8859-1": self = .windows1252
        default: return nil
        }
    }
}

/// Bytes to text for the importers.
enum ImportText {
    /// `data` as UTF-8, or a clear error naming the first line with a byte that is not UTF-8.
    static func utf8(_ data: Data, name: String) throws -> String {
        if let text = String(validating: data, as: UTF8.self) { return text }
        let (line, byte) = firstInvalidUTF8(Array(data))
        throw VaultError.invalidField(
            [.importEncoding],
            "\(ImportProblem.shown(name, 200)) is not UTF-8 text (line \(line) has the byte 0x\(String(format: "%02X", byte))); "
                + "save it as UTF-8, or pass import_encoding windows-1252 if it is Windows or Latin-1 text")
    }

    /// `data` in `encoding`.
    static func decode(_ data: Data, encoding: ImportEncoding, name: String) throws -> String {
        switch encoding {
        case .utf8: try utf8(data, name: name)
        case .windows1252: windows1252(Array(data))
        }
    }

    /// UTF-8 when the bytes are UTF-8, else Windows-1252 (OFX 1.x files are often CP1252).
    static func utf8OrWindows1252(_ data: Data) -> String {
        String(validating: data, as: UTF8.self) ?? windows1252(Array(data))
    }

    /// The line (from 1) and value of the first byte that does not start a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (line: Int, byte: UInt8) {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0, line = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == 0x0A { line += 1 }
                offset += encoded.count
            case .error:
                return (line, offset < bytes.count ? bytes[offset] : 0)
            case .emptyInput:
                return (line, 0)
            }
        }
    }

    /// Windows-1252: ASCII and Latin-1 as they are, 0x80-0x9F as Windows assigns them (the five
    /// unassigned bytes become the C1 controls of the same value).
    static func windows1252(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for byte in bytes {
            let value: UInt32 = (0x80...0x9F).contains(byte) ? high[Int(byte) - 0x80] : UInt32(byte)
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        }
        return String(scalars)
    }

    private static let high: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]
}
