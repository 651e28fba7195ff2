// Float layers' GEMM: OpenBLAS is loaded with dlopen on first use (not linked, so int8-only
// processes never map it). The test command installs libopenblas, so here it must load, and its
// result must match the portable loop up to float summation order.
import Testing
@testable import VigilRuntime

@Suite struct FloatGEMMTests {
    @Test func openBLASLoadsAndAgreesWithTheLoop() {
        #expect(OpenBLAS.isAvailable, "libopenblas.so.0 did not load; Tools/setup.sh installs libopenblas-dev")
        var rng = SystemRandomNumberGenerator()
        for (m, n, k, tb) in [(3, 5, 7, false), (16, 33, 20, true), (1, 64, 9, false)] {
            let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
            var c = [Float](repeating: .nan, count: m * n)
            sgemm(m: m, n: n, k: k, a: a, b: b, c: &c, transposeB: tb)
            for i in 0..<m {
                for j in 0..<n {
                    var ref: Double = 0
                    for p in 0..<k { ref += Double(a[i * k + p]) * Double(tb ? b[j * k + p] : b[p * n + j]) }
                    #expect(abs(Double(c[i * n + j]) - ref) <= 1e-5 * Double(k), "m\(m) n\(n) k\(k) at \(i),\(j)")
                }
            }
        }
    }
}
