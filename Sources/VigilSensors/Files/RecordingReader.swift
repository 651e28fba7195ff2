import Foundation

/// Reads a recording from a file, choosing the reader from the file's extension:
/// `.hea` (or a `.dat` beside its `.hea`) → WFDB, `.csv`/`.txt`/`.tsv` → CSV, `.npy` → NumPy,
/// `.edf` → EDF.
public enum RecordingReader {
    /// What the caller knows that the file may not say.
    public struct Options: Sendable {
        /// Sample rate in Hz: required for NPY and for CSV without a time column; for WFDB and EDF
        /// it must agree with the header when given.
        public var sampleRate: Double?
        /// CSV: the columns to read (by header name, or 1-based number for a file without a
        /// header); `nil` reads every column except the time column.
        public var columns: [String]?
        /// CSV: the column holding sample times; `nil` uses a column named `time` if there is one.
        public var timeColumn: String?
        /// CSV: seconds per unit of the time column (1 for seconds, 0.001 for milliseconds).
        public var timeScale: Double

        /// Options.
        public init(sampleRate: Double? = nil, columns: [String]? = nil, timeColumn: String? = nil, timeScale: Double = 1) {
            self.sampleRate = sampleRate
            self.columns = columns
            self.timeColumn = timeColumn
            self.timeScale = timeScale
        }
    }

    /// Reads `path`. Throws `SensorsError` naming the file and the line, byte or field at fault.
    public static func read(_ path: String, options: Options = Options()) throws(SensorsError) -> Recording {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "hea":
            return try check(WFDBReader.read(headerPath: path), options, path)
        case "dat":
            let hea = (path as NSString).deletingPathExtension + ".hea"
            guard FileManager.default.fileExists(atPath: hea) else {
                throw SensorsError(.unreadable, "\(path): a WFDB signal file needs its header \(hea), which does not exist")
            }
            return try check(WFDBReader.read(headerPath: hea), options, path)
        case "csv", "txt", "tsv":
            return try CSVReader.read(path, options: options)
        case "npy":
            guard let rate = options.sampleRate else {
                throw SensorsError(.invalidValue, "\(path): an .npy file carries no sample rate: give it (--rate HZ)")
            }
            return try NPYReader.read(path, sampleRate: rate)
        case "edf":
            return try check(EDFReader.read(path, signals: options.columns), options, path)
        default:
            throw SensorsError(.unsupported, "\(path): unknown file type '.\(ext)' (expected .hea, .dat, .csv, .npy or .edf)")
        }
    }

    /// Keeps only the requested channels and checks a given rate against the file's own.
    private static func check(_ rec: Recording, _ options: Options, _ path: String) throws(SensorsError) -> Recording {
        var rec = rec
        if let rate = options.sampleRate, abs(rate - rec.sampleRate) > 1e-6 * rec.sampleRate {
            throw SensorsError(.invalidValue, "\(path): the file says \(rec.sampleRate) Hz but \(rate) Hz was given")
        }
        if let names = options.columns {
            var picked: [Channel] = []
            for name in names {
                if let c = rec.channel(named: name) { picked.append(c); continue }
                if let i = Int(name), i >= 1, i <= rec.channels.count { picked.append(rec.channels[i - 1]); continue }
                let have = rec.channels.map(\.name).joined(separator: ", ")
                throw SensorsError(.invalidValue, "\(path): no signal named '\(name)' (signals: \(have))")
            }
            rec.channels = picked
        }
        return rec
    }

    /// The whole file, or an error naming it.
    static func bytes(_ path: String) throws(SensorsError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SensorsError(.unreadable, "\(path): cannot read (missing or not readable)")
        }
        return [UInt8](data)
    }
}
