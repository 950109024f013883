/// A guess at what a file that failed as generic CSV or JSON really is, as advice.
enum SourceHint {
    static func guess(text: String, header: [String] = []) -> String {
        let head = String(text.prefix(4000))
        let names = Set(header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        if names.contains("order id"), !names.isDisjoint(with: ["asin", "website", "product name", "total owed"]) {
            return " (this looks like an Amazon order history: pass import_preset amazon)"
        }
        if head.contains("OFXHEADER") || head.contains("<OFX>") { return " (this looks like an OFX statement: pass import_preset ofx)" }
        if head.contains("camt.053") || head.contains("BkToCstmrStmt") { return " (this looks like a camt.053 statement: pass import_preset camt053)" }
        if head.contains("schema.org") || head.lowercased().contains("application/ld+json") {
            return " (this looks like schema.org markup: pass import_preset schema-org)"
        }
        return ""
    }
}
