import GRDB
internal import GRDBSQLite
import VaultCrypto

/// A GRDB-prepared statement driven through SQLite's C API.
///
/// For hot paths only: the redemption writer, which runs a handful of fixed statements for
/// every request the server answers, and the bulk reads behind the reports, `vrm audit` and
/// `vrm audit verify` (every sealed purchase or audit entry). GRDB's row, argument and metadata
/// machinery cost several times the SQL itself there (measured with `vrm-bench redeem` and on
/// the large vault). GRDB still prepares, caches
/// and finalizes the statement; this type only binds, steps, reads columns and resets.
/// Transactions are begun and ended only by `VaultDatabase.writeDirect`, which always leaves
/// the connection outside a transaction, as GRDB requires.
struct RawStatement {
    fileprivate let handle: OpaquePointer
    private let connection: OpaquePointer?
    private let sql: String

    /// The cached statement for `sql` on `db`'s connection.
    init(_ db: Database, _ sql: String) throws {
        let statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        connection = db.sqliteConnection
        self.sql = sql
    }

    /// SQLITE_TRANSIENT: SQLite copies bound text and blobs before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                // An empty string still needs a non-null pointer, or SQLite stores NULL.
                _ = sqlite3_bind_text(handle, index, chars.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(chars.count), Self.transient)
            }
        }
    }

    func bind(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            // A zero-length blob still needs a non-null pointer, or SQLite stores NULL.
            _ = sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), Self.transient)
        }
    }

    /// Binds the blob, or NULL for nil.
    func bind(_ index: Int32, _ bytes: [UInt8]?) {
        if let bytes { bind(index, bytes) } else { sqlite3_bind_null(handle, index) }
    }

    /// Runs one step: true when a row is ready, false when the statement is done.
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: message, sql: sql)
        }
    }

    /// Runs a statement that returns no rows, then resets it.
    func run() throws {
        defer { reset() }
        while try step() {}
    }

    /// Rows the last INSERT, UPDATE or DELETE on this connection changed.
    var changes: Int32 {
        connection.map { sqlite3_changes($0) } ?? 0
    }

    /// Makes the statement ready to run again (bindings are kept until rebound).
    func reset() {
        sqlite3_reset(handle)
    }

    /// How many columns a row of this statement has.
    var columnCount: Int32 { sqlite3_column_count(handle) }

    /// The name of `column` in the result.
    func columnName(_ column: Int32) -> String {
        sqlite3_column_name(handle, column).map { String(cString: $0) } ?? ""
    }

    /// Feeds `column` of the current row to a hash, tagged with its storage class, so two
    /// values of different types never hash alike: NULL `00`; INTEGER `01 ‖ i64be`; REAL
    /// `02 ‖ u64be(bit pattern)`; TEXT `03 ‖ u32be(len) ‖ bytes`; BLOB `04 ‖ u32be(len) ‖ bytes`.
    func feed(_ column: Int32, into input: inout BLAKE2b.Input) {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER:
            input.append([1])
            input.append(bigEndian: UInt64(bitPattern: int64(column)))
        case SQLITE_FLOAT:
            input.append([2])
            input.append(bigEndian: sqlite3_column_double(handle, column).bitPattern)
        case SQLITE_TEXT:
            input.append([3])
            let count = Int(sqlite3_column_bytes(handle, column))
            input.append(bigEndian: UInt32(truncatingIfNeeded: count))
            if let base = sqlite3_column_text(handle, column) { input.append(UnsafeRawBufferPointer(start: base, count: count)) }
        case SQLITE_BLOB:
            input.append([4])
            withBytes(column) { bytes in
                input.append(bigEndian: UInt32(truncatingIfNeeded: bytes.count))
                input.append(bytes)
            }
        default:
            input.append([0])
        }
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }

    func text(_ column: Int32) -> String {
        guard let base = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }

    func bytes(_ column: Int32) -> [UInt8] {
        withBytes(column) { Array($0) }
    }

    /// The blob of `column`, valid only inside `body` (until the next step or reset).
    func withBytes<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let base = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        return try body(UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : count))
    }
}

/// Column reads that refuse a value of the wrong type as a corrupt vault instead of converting
/// it (or trapping, as a typed GRDB row read does): whoever can write the vault file can put
/// any value in any column. Errors name the table, the row (when its id could be read) and the
/// column.
extension RawStatement {
    /// A TEXT column.
    func text(_ column: Int32, _ name: String, of table: String, row: String? = nil) throws -> String {
        guard sqlite3_column_type(handle, column) == SQLITE_TEXT else { throw Self.damaged(table, row, name) }
        return text(column)
    }

    /// A BLOB column (an empty blob is a blob).
    func blob(_ column: Int32, _ name: String, of table: String, row: String? = nil) throws -> [UInt8] {
        guard sqlite3_column_type(handle, column) == SQLITE_BLOB else { throw Self.damaged(table, row, name) }
        return bytes(column)
    }

    /// A NULL or BLOB column.
    func optionalBlob(_ column: Int32, _ name: String, of table: String, row: String? = nil) throws -> [UInt8]? {
        isNull(column) ? nil : try blob(column, name, of: table, row: row)
    }

    /// An INTEGER column.
    func integer(_ column: Int32, _ name: String, of table: String, row: String? = nil) throws -> Int64 {
        guard sqlite3_column_type(handle, column) == SQLITE_INTEGER else { throw Self.damaged(table, row, name) }
        return int64(column)
    }

    /// A NULL or INTEGER column.
    func optionalInteger(_ column: Int32, _ name: String, of table: String, row: String? = nil) throws -> Int64? {
        isNull(column) ? nil : try integer(column, name, of: table, row: row)
    }

    static func damaged(_ table: String, _ row: String?, _ column: String) -> VaultError {
        .corrupt("\(table) row \(row.map(VaultError.printableID) ?? "?"): column \(column) is missing or has the wrong type")
    }
}
