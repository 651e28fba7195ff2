internal import CSQLite
import Foundation

// The outbox talks to SQLite's C API directly instead of through GRDB. Reason, measured: the agent's
// resident memory target (under 40 MB). GRDB's code was the largest single package in the agent's
// resident text, about 1.6 MB of pages touched at start (`Tools/agent/e2e.py` RSS with a
// pagemap-by-symbol breakdown, docs/PERFORMANCE.md), for eleven SQL statements on one connection.
// This file is the whole wrapper those statements need.

/// A value bound to a statement parameter.
enum SQLiteValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    static func int(_ v: Int) -> SQLiteValue { .integer(Int64(v)) }
    static func optionalReal(_ v: Double?) -> SQLiteValue { v.map(SQLiteValue.real) ?? .null }
}

/// An SQLite failure: the extended result code and SQLite's message.
struct SQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    /// The primary result code (e.g. SQLITE_CONSTRAINT for every constraint failure).
    var primaryCode: Int32 { code & 0xff }
    var isConstraintViolation: Bool { primaryCode == SQLITE_CONSTRAINT }
    /// SQLITE_BUSY: another connection holds a lock this one needs.
    var isBusy: Bool { primaryCode == SQLITE_BUSY }
    var description: String { "SQLite error \(code): \(message)" }
}

/// One result row, read by column index in the order of the SELECT.
struct SQLiteRow {
    let values: [SQLiteValue]

    func int64(_ i: Int) -> Int64 {
        switch values[i] {
        case .integer(let v): return v
        case .real(let v): return Int64(v)
        case .text(let s): return Int64(s) ?? 0
        case .null, .blob: return 0
        }
    }
    func int(_ i: Int) -> Int { Int(int64(i)) }
    func double(_ i: Int) -> Double {
        switch values[i] {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        case .text(let s): return Double(s) ?? 0
        case .null, .blob: return 0
        }
    }
    func text(_ i: Int) -> String {
        switch values[i] {
        case .text(let s): return s
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .blob(let d): return String(decoding: d, as: UTF8.self)
        case .null: return ""
        }
    }
    func blob(_ i: Int) -> Data {
        switch values[i] {
        case .blob(let d): return d
        case .text(let s): return Data(s.utf8)
        default: return Data()
        }
    }
}

/// SQLite's "copy the bound bytes now" destructor.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// One SQLite connection. Not thread-safe by itself: `SerializedDatabase` is its only owner and
/// serialises every use behind a lock.
final class SQLiteConnection {
    private let handle: OpaquePointer

    /// Opens (creating if needed) the database at `path`, with extended result codes and a busy
    /// timeout (another process holding the write lock is waited for, not failed on).
    init(path: String, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        var h: OpaquePointer?
        let rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let h else {
            let message = h.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot allocate a connection"
            sqlite3_close_v2(h)
            throw SQLiteError(code: rc, message: message)
        }
        handle = h
        sqlite3_extended_result_codes(h, 1)
        sqlite3_busy_timeout(h, busyTimeoutMilliseconds)
    }

    deinit { sqlite3_close_v2(handle) }

    private func failure(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs one or more statements without parameters or results (schema scripts).
    func executeScript(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        guard rc == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: rc, message: message)
        }
    }

    /// Runs one statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> Int {
        try forEachRow(sql, arguments) { _ in true }
        return changes
    }

    /// All rows of one statement.
    func query(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> [SQLiteRow] {
        var rows: [SQLiteRow] = []
        try forEachRow(sql, arguments) { rows.append($0); return true }
        return rows
    }

    /// Steps one statement, handing each row to `body` until it returns false.
    func forEachRow(_ sql: String, _ arguments: [SQLiteValue], _ body: (SQLiteRow) throws -> Bool) throws {
        var stmt: OpaquePointer?
        var rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw failure(rc) }
        defer { sqlite3_finalize(stmt) }
        guard Int(sqlite3_bind_parameter_count(stmt)) == arguments.count else {
            throw SQLiteError(code: SQLITE_RANGE, message: "\(arguments.count) arguments for \(sqlite3_bind_parameter_count(stmt)) parameters in \(sql)")
        }
        for (i, value) in arguments.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: rc = sqlite3_bind_null(stmt, index)
            case .integer(let v): rc = sqlite3_bind_int64(stmt, index, v)
            case .real(let v): rc = sqlite3_bind_double(stmt, index, v)
            case .text(let s): rc = sqlite3_bind_text(stmt, index, s, -1, transient)
            case .blob(let d):
                rc = d.isEmpty ? sqlite3_bind_zeroblob(stmt, index, 0)
                    : d.withUnsafeBytes { sqlite3_bind_blob(stmt, index, $0.baseAddress, Int32($0.count), transient) }
            }
            guard rc == SQLITE_OK else { throw failure(rc) }
        }
        let columns = Int(sqlite3_column_count(stmt))
        while true {
            rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw failure(rc) }
            var values: [SQLiteValue] = []
            values.reserveCapacity(columns)
            for c in 0..<Int32(columns) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(stmt, c)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, c))
                    values.append(.blob(n == 0 ? Data() : Data(bytes: sqlite3_column_blob(stmt, c), count: n)))
                default: values.append(.null)
                }
            }
            guard try body(SQLiteRow(values: values)) else { return }
        }
    }

    /// The first column of the first row, as an integer (nil when there is no row or it is NULL).
    func int(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> Int? {
        var result: Int?
        try forEachRow(sql, arguments) { row in
            if case .null = row.values[0] {} else { result = row.int(0) }
            return false
        }
        return result
    }

    /// Runs `body` in a transaction (BEGIN IMMEDIATE: the write lock is taken at once, so a busy
    /// database is waited for at the start, never half-way); commits when it returns, rolls back
    /// when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { _ = try? execute("ROLLBACK") }
            throw error
        }
    }
}

/// The outbox's connection behind a lock: one writer and reader at a time. Reads are short
/// (an upload batch, counters), so readers do not need connections of their own.
/// @unchecked Sendable: `connection` is only reached through `lock`.
final class SerializedDatabase: @unchecked Sendable {
    private let lock = NSLock()
    private let connection: SQLiteConnection

    init(_ connection: SQLiteConnection) { self.connection = connection }

    /// Runs `body` with the connection, outside any transaction.
    func withConnection<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try lock.withLock { try body(connection) }
    }

    /// Runs `body` in one IMMEDIATE transaction.
    func write<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try lock.withLock { try connection.transaction { try body(connection) } }
    }

    /// Runs `body` in one read transaction (a consistent snapshot across its statements).
    func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try lock.withLock {
            try connection.execute("BEGIN DEFERRED")
            defer { _ = try? connection.execute("COMMIT") }
            return try body(connection)
        }
    }
}
