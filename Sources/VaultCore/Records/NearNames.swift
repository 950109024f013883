/// Suggestions for a name the user mistyped: vendors, subcommands, profile fields, scopes.
public enum NearNames {
    /// The candidates closest to `name` (case-insensitive): those that contain it or that it
    /// contains, and those within an edit distance of about a third of its length, closest first.
    public static func suggest(_ name: String, among candidates: [String], limit: Int = 3) -> [String] {
        let wanted = Array(name.lowercased())
        guard !wanted.isEmpty else { return [] }
        let allowed = max(1, wanted.count / 3)
        var scored: [(distance: Int, name: String)] = []
        for candidate in Set(candidates) {
            let other = Array(candidate.lowercased())
            guard !other.isEmpty, other != wanted else { continue }
            let lowered = String(other), typed = String(wanted)
            if wanted.count >= 3, lowered.hasPrefix(typed) || lowered.contains(typed) || (other.count >= 3 && typed.contains(lowered)) {
                scored.append((0, candidate))
                continue
            }
            let distance = editDistance(wanted, other, limit: allowed)
            if distance <= allowed { scored.append((distance, candidate)) }
        }
        return scored.sorted { ($0.distance, $0.name) < ($1.distance, $1.name) }.prefix(limit).map(\.name)
    }

    /// " (did you mean "a" or "b"?)", or "" without suggestions.
    public static func hint(_ name: String, among candidates: [String]) -> String {
        let found = suggest(name, among: candidates)
        guard !found.isEmpty else { return "" }
        return " (did you mean \(found.map { "\"\($0)\"" }.joined(separator: " or "))?)"
    }

    /// Damerau-Levenshtein (optimal string alignment) distance, giving up above `limit`.
    static func editDistance(_ a: [Character], _ b: [Character], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var best = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { value = min(value, before[j - 2] + 1) }
                current[j] = value
                best = min(best, value)
            }
            if best > limit { return limit + 1 }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}
