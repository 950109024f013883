/// QR codes (ISO/IEC 18004, model 2) in byte mode, for printing a link on a terminal (issue 21's
/// request links, Specs/requests.md §1): versions
/// 1-40, error correction L, M, Q or H, the mask with the lowest penalty. A port of the
/// reference algorithm (as Project Nayuki's QR Code generator lays it out), with the
/// Reed-Solomon block table of the standard.
struct QRCode: Sendable {
    enum Correction: Int, Sendable, CaseIterable {
        case low = 0, medium, quartile, high

        /// The two format bits (L 01, M 00, Q 11, H 10).
        var formatBits: Int { [1, 0, 3, 2][rawValue] }
    }

    let version: Int
    let size: Int
    private(set) var mask = 0
    /// Row-major, `true` = dark.
    private(set) var modules: [Bool]
    private var isFunction: [Bool]

    enum EncodeError: Error, Equatable {
        case tooLong(bytes: Int)
    }

    /// Per version, per level (L, M, Q, H): groups of (blocks, codewords per block, data codewords per block).
    static let blockTable: [[[(Int, Int, Int)]]] = [
        [[(1, 26, 19)], [(1, 26, 16)], [(1, 26, 13)], [(1, 26, 9)]],
        [[(1, 44, 34)], [(1, 44, 28)], [(1, 44, 22)], [(1, 44, 16)]],
        [[(1, 70, 55)], [(1, 70, 44)], [(2, 35, 17)], [(2, 35, 13)]],
        [[(1, 100, 80)], [(2, 50, 32)], [(2, 50, 24)], [(4, 25, 9)]],
        [[(1, 134, 108)], [(2, 67, 43)], [(2, 33, 15), (2, 34, 16)], [(2, 33, 11), (2, 34, 12)]],
        [[(2, 86, 68)], [(4, 43, 27)], [(4, 43, 19)], [(4, 43, 15)]],
        [[(2, 98, 78)], [(4, 49, 31)], [(2, 32, 14), (4, 33, 15)], [(4, 39, 13), (1, 40, 14)]],
        [[(2, 121, 97)], [(2, 60, 38), (2, 61, 39)], [(4, 40, 18), (2, 41, 19)], [(4, 40, 14), (2, 41, 15)]],
        [[(2, 146, 116)], [(3, 58, 36), (2, 59, 37)], [(4, 36, 16), (4, 37, 17)], [(4, 36, 12), (4, 37, 13)]],
        [[(2, 86, 68), (2, 87, 69)], [(4, 69, 43), (1, 70, 44)], [(6, 43, 19), (2, 44, 20)], [(6, 43, 15), (2, 44, 16)]],
        [[(4, 101, 81)], [(1, 80, 50), (4, 81, 51)], [(4, 50, 22), (4, 51, 23)], [(3, 36, 12), (8, 37, 13)]],
        [[(2, 116, 92), (2, 117, 93)], [(6, 58, 36), (2, 59, 37)], [(4, 46, 20), (6, 47, 21)], [(7, 42, 14), (4, 43, 15)]],
        [[(4, 133, 107)], [(8, 59, 37), (1, 60, 38)], [(8, 44, 20), (4, 45, 21)], [(12, 33, 11), (4, 34, 12)]],
        [[(3, 145, 115), (1, 146, 116)], [(4, 64, 40), (5, 65, 41)], [(11, 36, 16), (5, 37, 17)], [(11, 36, 12), (5, 37, 13)]],
        [[(5, 109, 87), (1, 110, 88)], [(5, 65, 41), (5, 66, 42)], [(5, 54, 24), (7, 55, 25)], [(11, 36, 12), (7, 37, 13)]],
        [[(5, 122, 98), (1, 123, 99)], [(7, 73, 45), (3, 74, 46)], [(15, 43, 19), (2, 44, 20)], [(3, 45, 15), (13, 46, 16)]],
        [[(1, 135, 107), (5, 136, 108)], [(10, 74, 46), (1, 75, 47)], [(1, 50, 22), (15, 51, 23)], [(2, 42, 14), (17, 43, 15)]],
        [[(5, 150, 120), (1, 151, 121)], [(9, 69, 43), (4, 70, 44)], [(17, 50, 22), (1, 51, 23)], [(2, 42, 14), (19, 43, 15)]],
        [[(3, 141, 113), (4, 142, 114)], [(3, 70, 44), (11, 71, 45)], [(17, 47, 21), (4, 48, 22)], [(9, 39, 13), (16, 40, 14)]],
        [[(3, 135, 107), (5, 136, 108)], [(3, 67, 41), (13, 68, 42)], [(15, 54, 24), (5, 55, 25)], [(15, 43, 15), (10, 44, 16)]],
        [[(4, 144, 116), (4, 145, 117)], [(17, 68, 42)], [(17, 50, 22), (6, 51, 23)], [(19, 46, 16), (6, 47, 17)]],
        [[(2, 139, 111), (7, 140, 112)], [(17, 74, 46)], [(7, 54, 24), (16, 55, 25)], [(34, 37, 13)]],
        [[(4, 151, 121), (5, 152, 122)], [(4, 75, 47), (14, 76, 48)], [(11, 54, 24), (14, 55, 25)], [(16, 45, 15), (14, 46, 16)]],
        [[(6, 147, 117), (4, 148, 118)], [(6, 73, 45), (14, 74, 46)], [(11, 54, 24), (16, 55, 25)], [(30, 46, 16), (2, 47, 17)]],
        [[(8, 132, 106), (4, 133, 107)], [(8, 75, 47), (13, 76, 48)], [(7, 54, 24), (22, 55, 25)], [(22, 45, 15), (13, 46, 16)]],
        [[(10, 142, 114), (2, 143, 115)], [(19, 74, 46), (4, 75, 47)], [(28, 50, 22), (6, 51, 23)], [(33, 46, 16), (4, 47, 17)]],
        [[(8, 152, 122), (4, 153, 123)], [(22, 73, 45), (3, 74, 46)], [(8, 53, 23), (26, 54, 24)], [(12, 45, 15), (28, 46, 16)]],
        [[(3, 147, 117), (10, 148, 118)], [(3, 73, 45), (23, 74, 46)], [(4, 54, 24), (31, 55, 25)], [(11, 45, 15), (31, 46, 16)]],
        [[(7, 146, 116), (7, 147, 117)], [(21, 73, 45), (7, 74, 46)], [(1, 53, 23), (37, 54, 24)], [(19, 45, 15), (26, 46, 16)]],
        [[(5, 145, 115), (10, 146, 116)], [(19, 75, 47), (10, 76, 48)], [(15, 54, 24), (25, 55, 25)], [(23, 45, 15), (25, 46, 16)]],
        [[(13, 145, 115), (3, 146, 116)], [(2, 74, 46), (29, 75, 47)], [(42, 54, 24), (1, 55, 25)], [(23, 45, 15), (28, 46, 16)]],
        [[(17, 145, 115)], [(10, 74, 46), (23, 75, 47)], [(10, 54, 24), (35, 55, 25)], [(19, 45, 15), (35, 46, 16)]],
        [[(17, 145, 115), (1, 146, 116)], [(14, 74, 46), (21, 75, 47)], [(29, 54, 24), (19, 55, 25)], [(11, 45, 15), (46, 46, 16)]],
        [[(13, 145, 115), (6, 146, 116)], [(14, 74, 46), (23, 75, 47)], [(44, 54, 24), (7, 55, 25)], [(59, 46, 16), (1, 47, 17)]],
        [[(12, 151, 121), (7, 152, 122)], [(12, 75, 47), (26, 76, 48)], [(39, 54, 24), (14, 55, 25)], [(22, 45, 15), (41, 46, 16)]],
        [[(6, 151, 121), (14, 152, 122)], [(6, 75, 47), (34, 76, 48)], [(46, 54, 24), (10, 55, 25)], [(2, 45, 15), (64, 46, 16)]],
        [[(17, 152, 122), (4, 153, 123)], [(29, 74, 46), (14, 75, 47)], [(49, 54, 24), (10, 55, 25)], [(24, 45, 15), (46, 46, 16)]],
        [[(4, 152, 122), (18, 153, 123)], [(13, 74, 46), (32, 75, 47)], [(48, 54, 24), (14, 55, 25)], [(42, 45, 15), (32, 46, 16)]],
        [[(20, 147, 117), (4, 148, 118)], [(40, 75, 47), (7, 76, 48)], [(43, 54, 24), (22, 55, 25)], [(10, 45, 15), (67, 46, 16)]],
        [[(19, 148, 118), (6, 149, 119)], [(18, 75, 47), (31, 76, 48)], [(34, 54, 24), (34, 55, 25)], [(20, 45, 15), (61, 46, 16)]],
    ]

    /// The code for `data` at `correction`, in the smallest version it fits; `mask` nil picks
    /// the mask with the lowest penalty.
    static func encode(_ data: [UInt8], correction: Correction = .medium, minVersion: Int = 1, mask: Int? = nil) throws -> QRCode {
        for version in max(1, minVersion)...40 {
            let capacity = dataCodewords(version: version, correction: correction) * 8
            let used = 4 + (version < 10 ? 8 : 16) + data.count * 8
            if used <= capacity { return QRCode(version: version, correction: correction, data: data, mask: mask) }
        }
        throw EncodeError.tooLong(bytes: data.count)
    }

    static func dataCodewords(version: Int, correction: Correction) -> Int {
        blockTable[version - 1][correction.rawValue].reduce(0) { $0 + $1.0 * $1.2 }
    }

    private init(version: Int, correction: Correction, data: [UInt8], mask requested: Int?) {
        self.version = version
        size = version * 4 + 17
        modules = [Bool](repeating: false, count: size * size)
        isFunction = modules
        drawFunctionPatterns()
        let codewords = Self.interleave(Self.dataBits(data, version: version, correction: correction), version: version, correction: correction)
        drawCodewords(codewords)
        var best = min(max(requested ?? 0, 0), 7)
        if requested == nil {
            var lowest = Int.max
            for candidate in 0..<8 {
                applyMask(candidate)
                drawFormatBits(correction: correction, mask: candidate)
                let penalty = penaltyScore()
                if penalty < lowest {
                    lowest = penalty
                    best = candidate
                }
                applyMask(candidate)  // XOR again: undone
            }
        }
        mask = best
        applyMask(best)
        drawFormatBits(correction: correction, mask: best)
        isFunction = []
    }

    subscript(x: Int, y: Int) -> Bool {
        x >= 0 && x < size && y >= 0 && y < size && modules[y * size + x]
    }

    // MARK: Data

    /// Mode, count, bytes, terminator, padding: the data codewords.
    static func dataBits(_ data: [UInt8], version: Int, correction: Correction) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
        }
        append(0b0100, 4)
        append(data.count, version < 10 ? 8 : 16)
        for byte in data { append(Int(byte), 8) }
        let capacity = dataCodewords(version: version, correction: correction) * 8
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var pad = 0xEC
        while bits.count < capacity {
            append(pad, 8)
            pad ^= 0xEC ^ 0x11
        }
        return stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
    }

    /// Data codewords split into blocks, each with its Reed-Solomon codewords, interleaved.
    static func interleave(_ data: [UInt8], version: Int, correction: Correction) -> [UInt8] {
        var blocks: [[UInt8]] = []
        var ecc: [[UInt8]] = []
        var offset = 0
        for (count, total, dataCount) in blockTable[version - 1][correction.rawValue] {
            let divisor = ReedSolomon.divisor(degree: total - dataCount)
            for _ in 0..<count {
                let block = Array(data[offset..<offset + dataCount])
                offset += dataCount
                blocks.append(block)
                ecc.append(ReedSolomon.remainder(block, divisor: divisor))
            }
        }
        var result: [UInt8] = []
        for i in 0..<(blocks.map(\.count).max() ?? 0) {
            for block in blocks where i < block.count { result.append(block[i]) }
        }
        for i in 0..<(ecc.first?.count ?? 0) {
            for block in ecc { result.append(block[i]) }
        }
        return result
    }

    // MARK: Function patterns

    private mutating func set(_ x: Int, _ y: Int, _ dark: Bool) {
        modules[y * size + x] = dark
        isFunction[y * size + x] = true
    }

    private mutating func drawFunctionPatterns() {
        for i in 0..<size {
            set(6, i, i % 2 == 0)
            set(i, 6, i % 2 == 0)
        }
        drawFinder(3, 3)
        drawFinder(size - 4, 3)
        drawFinder(3, size - 4)
        let positions = alignmentPositions()
        let last = positions.count - 1
        for (i, x) in positions.enumerated() {
            for (j, y) in positions.enumerated() where !(i == 0 && j == 0) && !(i == 0 && j == last) && !(i == last && j == 0) {
                drawAlignment(x, y)
            }
        }
        drawFormatBits(correction: .medium, mask: 0)  // reserves the areas; drawn again at the end
        drawVersion()
    }

    private mutating func drawFinder(_ x: Int, _ y: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let distance = max(abs(dx), abs(dy))
                let xx = x + dx, yy = y + dy
                if xx >= 0, xx < size, yy >= 0, yy < size { set(xx, yy, distance != 2 && distance != 4) }
            }
        }
    }

    private mutating func drawAlignment(_ x: Int, _ y: Int) {
        for dy in -2...2 {
            for dx in -2...2 { set(x + dx, y + dy, max(abs(dx), abs(dy)) != 1) }
        }
    }

    func alignmentPositions() -> [Int] {
        guard version > 1 else { return [] }
        let count = version / 7 + 2
        let step = version == 32 ? 26 : (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
        var result = [6]
        for i in 0..<(count - 1) { result.insert(size - 7 - i * step, at: 1) }
        return result
    }

    private mutating func drawFormatBits(correction: Correction, mask: Int) {
        let data = correction.formatBits << 3 | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0...5 { set(8, i, bit(i)) }
        set(8, 7, bit(6))
        set(8, 8, bit(7))
        set(7, 8, bit(8))
        for i in 9..<15 { set(14 - i, 8, bit(i)) }
        for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
        set(8, size - 8, true)
    }

    private mutating func drawVersion() {
        guard version >= 7 else { return }
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        let bits = version << 12 | remainder
        for i in 0..<18 {
            let dark = (bits >> i) & 1 == 1
            let a = size - 11 + i % 3, b = i / 3
            set(a, b, dark)
            set(b, a, dark)
        }
    }

    // MARK: Codewords and masks

    private mutating func drawCodewords(_ codewords: [UInt8]) {
        var i = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for j in 0..<2 {
                    let x = right - j
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    if !isFunction[y * size + x], i < codewords.count * 8 {
                        modules[y * size + x] = (codewords[i >> 3] >> (7 - (i & 7))) & 1 == 1
                        i += 1
                    }
                }
            }
            right -= 2
        }
    }

    private mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y * size + x] {
                let invert: Bool
                switch mask {
                case 0: invert = (x + y) % 2 == 0
                case 1: invert = y % 2 == 0
                case 2: invert = x % 3 == 0
                case 3: invert = (x + y) % 3 == 0
                case 4: invert = (x / 3 + y / 2) % 2 == 0
                case 5: invert = x * y % 2 + x * y % 3 == 0
                case 6: invert = (x * y % 2 + x * y % 3) % 2 == 0
                default: invert = ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if invert { modules[y * size + x].toggle() }
            }
        }
    }

    /// The standard's penalty: runs of five or more, 2x2 blocks, finder-like patterns, balance.
    func penaltyScore() -> Int {
        var result = 0
        func lines(_ horizontal: Bool) -> Int {
            var penalty = 0
            for a in 0..<size {
                var runColor = false, runLength = 0
                var history = [Int](repeating: 0, count: 7)
                func push(_ length: Int) {
                    var length = length
                    if history[0] == 0 { length += size }
                    history.removeLast()
                    history.insert(length, at: 0)
                }
                func countFinders() -> Int {
                    let n = history[1]
                    let core = n > 0 && history[2] == n && history[3] == n * 3 && history[4] == n && history[5] == n
                    return (core && history[0] >= n * 4 && history[6] >= n ? 1 : 0) + (core && history[6] >= n * 4 && history[0] >= n ? 1 : 0)
                }
                for b in 0..<size {
                    let dark = horizontal ? self[b, a] : self[a, b]
                    if dark == runColor {
                        runLength += 1
                        if runLength == 5 { penalty += 3 } else if runLength > 5 { penalty += 1 }
                    } else {
                        push(runLength)
                        if !runColor { penalty += countFinders() * 40 }
                        runColor = dark
                        runLength = 1
                    }
                }
                // Terminate the line as if a light border followed.
                if runColor {
                    push(runLength)
                    runLength = 0
                }
                runLength += size
                push(runLength)
                penalty += countFinders() * 40
            }
            return penalty
        }
        result += lines(true) + lines(false)
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let c = self[x, y]
                if c == self[x + 1, y], c == self[x, y + 1], c == self[x + 1, y + 1] { result += 3 }
            }
        }
        let dark = modules.reduce(0) { $0 + ($1 ? 1 : 0) }
        let total = size * size
        let k = (abs(dark * 20 - total * 10) + total - 1) / total - 1
        result += k * 10
        return result
    }

    /// The code as text for a terminal: two rows per line in half blocks, with a light quiet
    /// zone of `border` modules (dark modules print as spaces on a light terminal background
    /// would fail to scan, so light is drawn and dark is left as the background: `inverted`
    /// for a dark background, the usual terminal).
    func text(border: Int = 2, inverted: Bool = true) -> String {
        func dark(_ x: Int, _ y: Int) -> Bool { self[x, y] != inverted }
        var lines: [String] = []
        var y = -border
        while y < size + border {
            var line = ""
            for x in -border..<(size + border) {
                let top = dark(x, y), bottom = y + 1 < size + border ? dark(x, y + 1) : !inverted
                line += top ? (bottom ? "█" : "▀") : (bottom ? "▄" : " ")
            }
            lines.append(line)
            y += 2
        }
        return lines.joined(separator: "\n")
    }
}

/// Reed-Solomon over GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for i in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= ((Int(y) >> i) & 1) * Int(x)
        }
        return UInt8(z & 0xFF)
    }

    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result[0]
            result.removeFirst()
            result.append(0)
            for i in 0..<result.count { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}
