/// ISO 20022 camt.053 bank-to-customer statements, versions 001.02 to 001.08
/// (`Specs/import.md` §7.4). One purchase per booked debit entry (`Ntry` with `CdtDbtInd`
/// `DBIT`); credits, reversals and pending entries are counted and left out.
struct CAMT053Statement {
    static let versions = 2...8

    func read(_ text: String) throws -> SourceRead {
        let roots: [MarkupElement]
        do {
            roots = try MarkupReader.parse(text, sgml: false)
        } catch let error as MarkupError {
            throw VaultError.invalidInput("not a readable camt.053 file: \(error)")
        }
        guard let document = roots.first else { throw VaultError.invalidInput("not a camt.053 file: there is no XML element in it") }
        try Self.checkVersion(document)
        guard let statement = document.name == "BkToCstmrStmt" ? document : document.child("BkToCstmrStmt") else {
            throw VaultError.invalidInput("not a camt.053 file: <\(document.name)> holds no <BkToCstmrStmt>")
        }
        var read = SourceRead()
        var number = 0
        for stmt in statement.children where stmt.name == "Stmt" {
            for entry in stmt.children where entry.name == "Ntry" {
                number += 1
                add(entry, number: number, to: &read)
            }
        }
        return read
    }

    /// The namespace (`urn:iso:std:iso:20022:tech:xsd:camt.053.001.08`) must be camt.053 in a
    /// version read here; a file with no namespace is read if its elements fit.
    static func checkVersion(_ document: MarkupElement) throws {
        let namespaces = document.attributes.filter { $0.key == "xmlns" || $0.key.hasPrefix("xmlns:") }.map(\.value)
        guard let iso = namespaces.first(where: { $0.contains("iso:20022") || $0.contains("camt.") }) else { return }
        guard let range = iso.range(of: "camt.053.001.") else {
            let kind = iso.components(separatedBy: ":").last ?? iso
            throw VaultError.invalidField(
                [.importPreset], "this is a \(ImportProblem.shown(kind, 40)) file, not a camt.053 statement; import_preset camt053 reads camt.053.001.02 to .08"
            )
        }
        let version = iso[range.upperBound...].prefix { $0.isNumber }
        guard let number = Int(version), versions.contains(number) else {
            throw VaultError.invalidField(
                [.importPreset],
                "camt.053.001.\(ImportProblem.shown(String(version), 4)) is a version not read here; import_preset camt053 reads camt.053.001.02 to .08")
        }
    }

    private func add(_ entry: MarkupElement, number: Int, to read: inout SourceRead) {
        var draft = DraftRow(location: "entry \(number) (line \(entry.line))", ordinal: number)
        draft.paddedAmounts = true
        func problem(_ field: String?, _ message: String) {
            read.problems.append(ImportProblem(location: draft.location, field: field, message: message, ordinal: number))
        }
        let indicator = entry.value("CdtDbtInd")
        guard let indicator, indicator == "DBIT" || indicator == "CRDT" else {
            problem("element CdtDbtInd", "expected DBIT or CRDT, found \"\(ImportProblem.shown(indicator ?? "", 10))\"")
            return
        }
        if let reversal = entry.value("RvslInd")?.lowercased(), reversal == "true" || reversal == "1" {
            read.skipped.reversals += 1
            return
        }
        let status = entry.value("Sts", "Cd") ?? entry.value("Sts")
        if let status, status == "PDNG" || status == "INFO" {
            read.skipped.pending += 1
            return
        }
        guard indicator == "DBIT" else {
            read.skipped.credits += 1
            return
        }
        guard let amount = entry.child("Amt") else {
            problem("element Amt", "the entry has no amount")
            return
        }
        // ISO 20022 writes amounts and dates one way only; the generic hints (--decimal-comma,
        // --date-format) do not apply to this preset, so its own rules are checked here.
        let amountText = amount.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = amountText.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 2 || parts.contains(where: { $0.isEmpty || !$0.allSatisfy { $0.isASCII && $0.isNumber } }) {
            draft.sourceProblems[.price] = ImportProblem(
                location: draft.location, field: "element Amt",
                message: "invalid amount \"\(ImportProblem.shown(amountText, 30))\": camt.053 amounts are digits with a decimal point, like 12.34",
                ordinal: number)
        }
        draft.set(.price, amount.text, label: "element Amt")
        draft.set(.currency, amount.attributes["Ccy"], label: "element Amt (Ccy)")
        if draft[.currency] == nil { draft.emptyLabels[.currency] = "element Amt (Ccy)" }

        let dates: [(String, String)] = [("BookgDt", "Dt"), ("BookgDt", "DtTm"), ("ValDt", "Dt"), ("ValDt", "DtTm")]
        if let (parent, leaf) = dates.first(where: { entry.value($0.0, $0.1) != nil }), let text = entry.value(parent, leaf) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let day = String(trimmed.prefix(10))
            if (try? CalendarDate.parse(day, field: "date")) == nil || (trimmed.count > 10 && trimmed.dropFirst(10).first != "T") {
                draft.sourceProblems[.date] = ImportProblem(
                    location: draft.location, field: "element \(parent)/\(leaf)",
                    message: "invalid date \"\(ImportProblem.shown(trimmed, 30))\": camt.053 dates are YYYY-MM-DD (DtTm an ISO 8601 time)", ordinal: number)
            }
            draft.set(.date, text, label: "element \(parent)/\(leaf)")
        } else {
            draft.emptyLabels[.date] = "element BookgDt"
        }

        let details = entry.child("NtryDtls")?.children.filter { $0.name == "TxDtls" } ?? []
        let creditor = details.lazy.compactMap { detail -> String? in
            detail.value("RltdPties", "Cdtr", "Nm") ?? detail.value("RltdPties", "Cdtr", "Pty", "Nm")
        }.first
        let info = entry.value("AddtlNtryInf")
        if let creditor {
            draft.set(.vendor, DraftRow.oneLine(creditor), label: "element Cdtr/Nm")
        } else if let info {
            draft.set(.vendor, DraftRow.oneLine(String(info.prefix(VendorRegistry.maxNameLength))), label: "element AddtlNtryInf")
        }
        draft.missingVendor = "the entry names no creditor (Cdtr/Nm) and has no AddtlNtryInf: pass default_vendor"

        let remittance = details.lazy.compactMap { detail -> String? in
            let lines = detail.child("RmtInf")?.children.filter { $0.name == "Ustrd" }.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) } ?? []
            let joined = lines.filter { !$0.isEmpty }.joined(separator: " ")
            return joined.isEmpty ? nil : joined
        }.first
        if let remittance {
            draft.set(.item, DraftRow.oneLine(remittance), label: "element RmtInf/Ustrd")
        } else if let info {
            draft.set(.item, DraftRow.oneLine(info), label: "element AddtlNtryInf")
        } else {
            draft.set(.item, draft[.vendor]?.text, label: draft[.vendor]?.label)
        }

        let endToEnd = details.lazy.compactMap { $0.value("Refs", "EndToEndId") }.first { $0.uppercased() != "NOTPROVIDED" }
        if let reference = entry.value("AcctSvcrRef") {
            draft.set(.order, reference, label: "element AcctSvcrRef")
        } else if let reference = entry.value("NtryRef") {
            draft.set(.order, reference, label: "element NtryRef")
        } else if let endToEnd {
            draft.set(.order, endToEnd, label: "element Refs/EndToEndId")
        }
        read.drafts.append(draft)
    }
}
