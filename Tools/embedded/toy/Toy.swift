// Stand-in for EmbeddedEntry.swift to test the Embedded Swift toolchain on its own
// (`Tools/embedded/run-qemu.sh --toy`): same C entry point, no Vigil code. It ignores the model bytes
// (but rejects an empty model) and copies the input floats to the output, going through the language
// features the core uses — a generic class, arrays, typed throws, String interpolation — so the link
// needs the same runtime symbols (posix_memalign, free, Unicode tables) as the real core.

enum ToyError: Error {
    case emptyModel
    case outputTooSmall(need: Int, capacity: Int)

    var description: String {
        switch self {
        case .emptyModel: return "toy: empty model"
        case let .outputTooSmall(need, capacity): return "toy: output needs \(need) floats, capacity \(capacity)"
        }
    }
}

final class Staging<Element> {
    var items: [Element] = []
    func append(_ element: Element) { items.append(element) }
}

func copy<T>(_ source: UnsafePointer<T>, _ count: Int, into output: UnsafeMutablePointer<T>, capacity: Int) throws(ToyError) -> Int {
    guard count <= capacity else { throw .outputTooSmall(need: count, capacity: capacity) }
    let staging = Staging<T>()
    for i in 0..<count { staging.append(source[i]) }
    for (i, x) in staging.items.enumerated() { output[i] = x }
    return staging.items.count
}

@_cdecl("vigil_embedded_run")
public func vigilEmbeddedRun(
    _ model: UnsafePointer<UInt8>, _ modelLength: Int,
    _ input: UnsafePointer<Float>, _ inputFloats: Int,
    _ output: UnsafeMutablePointer<Float>, _ outputCapacity: Int, _ outputFloats: UnsafeMutablePointer<Int>,
    _ err: UnsafeMutablePointer<UInt8>, _ errCapacity: Int
) -> Int32 {
    do throws(ToyError) {
        guard modelLength > 0 else { throw .emptyModel }
        outputFloats.pointee = try copy(input, inputFloats, into: output, capacity: outputCapacity)
        return 0
    } catch {
        var n = 0
        for b in error.description.utf8 where n < errCapacity - 1 {
            err[n] = b
            n += 1
        }
        if errCapacity > 0 { err[n] = 0 }
        return -1
    }
}
