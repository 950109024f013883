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

    public func strings(_ sql: String) throws -> [String] {
        try queue.read { db in try String.fetchAll(db, sql: sql) }
    }
}
