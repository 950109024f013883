import Foundation
/// A compact binary encoding for the records read in bulk (purchases, audit bodies): decoding
/// 100,000 of them as JSON took seconds. Layout: `Specs/vault-format.md` ("Binary records").
/// The first byte is the format tag `0x01`; any other first byte means the payload is JSON.
protocol BinaryRecord {
    func write(to writer: inout ByteWriter)
    init(from reader: inout ByteReader) throws
}

/// The tag that starts every binary record.
let binaryRecordTag: UInt8 = 0x01

struct ByteWriter {
    var bytes: [UInt8] = [binaryRecordTag]

    init(capacity: Int = 128) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    mutating func u32(_ v: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) } }
    mutating func i64(_ v: Int64) {
        let u = UInt64(bitPattern: v)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: u >> UInt64(shift))) }
    }
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u32(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
    /// Absent values are a 0 byte; present ones a 1 byte and the value.
    mutating func optional<T>(_ v: T?, _ body: (inout ByteWriter, T) -> Void) {
        guard let v else { return u8(0) }
        u8(1)
        body(&self, v)
    }
    mutating func strings(_ list: [String]) {
        u32(UInt32(list.count))
        for s in list { string(s) }
    }
    mutating func date(_ d: CalendarDate) {
        u32(UInt32(clamping: d.year))
        u8(UInt8(d.month))
        u8(UInt8(d.day))
    }
}

struct ByteReader {
    struct Malformed: Error {}

    let bytes: [UInt8]
    var offset = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else { throw Malformed() }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }
    mutating func u8() throws -> UInt8 { try take(1).first ?? 0 }
    mutating func bool() throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        default: throw Malformed()
        }
    }
    mutating func u32() throws -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func i64() throws -> Int64 { Int64(bitPattern: try take(8).reduce(0) { $0 << 8 | UInt64($1) }) }
    mutating func string() throws -> String {
        let slice = try take(Int(try u32()))
        // `String(validating:)` goes through generic metadata lookups for every call, which was
        // most of the time of decoding a record (`vrm report vendors` decodes 100,000
        // purchases). Decoding is specialised and repairs invalid UTF-8, so the text is valid
        // exactly when it comes out byte for byte as it went in.
        return try slice.withUnsafeBufferPointer { raw in
            let text = String(decoding: raw, as: UTF8.self)
            let same =
                text.utf8.withContiguousStorageIfAvailable { out in
                    guard out.count == raw.count else { return false }
                    guard let a = out.baseAddress, let b = raw.baseAddress else { return true }  // both empty
                    return memcmp(a, b, raw.count) == 0
                } ?? text.utf8.elementsEqual(raw)
            guard same else { throw Malformed() }
            return text
        }
    }
    mutating func optional<T>(_ body: (inout ByteReader) throws -> T) throws -> T? {
        try bool() ? try body(&self) : nil
    }
    mutating func strings() throws -> [String] {
        let n = Int(try u32())
        guard n <= bytes.count - offset else { throw Malformed() }
        return try (0..<n).map { _ in try string() }
    }
    mutating func date() throws -> CalendarDate {
        let y = try u32(), m = try u8(), d = try u8()
        guard let date = CalendarDate(year: Int(y), month: Int(m), day: Int(d)) else { throw Malformed() }
        return date
    }
    func finish() throws { guard offset == bytes.count else { throw Malformed() } }
}

extension Purchase: BinaryRecord {
    func write(to w: inout ByteWriter) {
        w.string(id); w.string(vendorID); w.string(item); w.date(date)
        w.optional(price) { w, p in
            w.i64(p.minorUnits); w.string(p.currency)
        }
        w.optional(orderNumber) { $0.string($1) }
        w.u32(UInt32(clamping: quantity))
        w.optional(giftFor) { $0.string($1) }
        w.optional(annotations.rating) { $0.u8(UInt8(clamping: $1)) }
        w.bool(annotations.returned)
        w.optional(annotations.warrantyUntil) { $0.date($1) }
        w.optional(annotations.notes) { $0.string($1) }
        w.strings(annotations.tags)
        w.i64(Millis.from(createdAt))
    }

    init(from r: inout ByteReader) throws {
        id = try r.string(); vendorID = try r.string(); item = try r.string(); date = try r.date()
        price = try r.optional { r in Money(minorUnits: try r.i64(), currency: try r.string()) }
        orderNumber = try r.optional { try $0.string() }
        quantity = Int(try r.u32())
        giftFor = try r.optional { try $0.string() }
        annotations = PurchaseAnnotations(
            rating: try r.optional { Int(try $0.u8()) }, returned: try r.bool(), warrantyUntil: try r.optional { try $0.date() },
            notes: try r.optional { try $0.string() }, tags: try r.strings())
        createdAt = Millis.date(try r.i64())
        try r.finish()
    }
}

extension AuditBody: BinaryRecord {
    func write(to w: inout ByteWriter) {
        for field in [grantID, vendorID, vendor] { w.optional(field) { $0.string($1) } }
        w.optional(scopes) { $0.strings($1) }
        w.optional(purpose) { $0.string($1) }
        w.optional(version) { $0.i64(Int64($1)) }
        for field in [client, userAgent, reason] { w.optional(field) { $0.string($1) } }
        // Access requests' members come after the first nine, and only when set: every body
        // written before them stays byte for byte what it was.
        if requestID != nil || link != nil {
            for field in [requestID, link] { w.optional(field) { $0.string($1) } }
        }
    }

    init(from r: inout ByteReader) throws {
        self.init(
            grantID: try r.optional { try $0.string() }, vendorID: try r.optional { try $0.string() }, vendor: try r.optional { try $0.string() },
            scopes: try r.optional { try $0.strings() }, purpose: try r.optional { try $0.string() },
            version: try r.optional { Int(try $0.i64()) }, client: try r.optional { try $0.string() },
            userAgent: try r.optional { try $0.string() }, reason: try r.optional { try $0.string() })
        if r.offset < r.bytes.count {
            requestID = try r.optional { try $0.string() }
            link = try r.optional { try $0.string() }
        }
        try r.finish()
    }
}

extension BinaryRecord {
    /// The encoded bytes (tag first); the caller wipes them after sealing.
    var encodedRecord: [UInt8] {
        var writer = ByteWriter()
        write(to: &writer)
        return writer.bytes
    }
}
