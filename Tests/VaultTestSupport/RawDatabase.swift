import GRDB

/// Direct SQL on a vault file, for tampering tests (bypasses every vault check).
public struct RawDatabase {
    let queue: DatabaseQueue

    public static func open(_ path: String) throws -> RawDatabase {
        RawDatabase(queue: try DatabaseQueue(path: path))
    }

    public func execute(_ sql: String) throws {
        try queue.write { db in try db.execute(sql: sql) }
    }

    public func int(_ sql: String) throws -> Int? {
        try queue.read { db in try Int.fetchOne(db, sql: sql) }
    }

    /// Every row of every table, as text: equal dumps mean equal content.
    public func dump() throws -> String {
        try queue.read { db in
            var out = ""
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY rowid") { out += "\(table): \(row)\n" }
            }
            return out
        }
    }

    /// Every column of every vault table (not SQLite's or GRDB's own), in schema order.
    public func columns() throws -> [(table: String, column: String)] {
        let tables = try strings(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations' ORDER BY name")
        return try tables.flatMap { table in
            try strings("SELECT name FROM pragma_table_info('\(table)') ORDER BY cid").map { (table, $0) }
        }
    }

    public func strings(_ sql: String) throws -> [String] {
        try queue.read { db in try String.fetchAll(db, sql: sql) }
    }
}
