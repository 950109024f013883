/// Checks a draft row's values and builds the purchase, collecting every problem of the row
/// (one per field) instead of stopping at the first (`Specs/import.md` §4).
struct RowChecker {
    let rules: ValueRules

    /// The purchase, or the row's problems.
    func check(_ draft: DraftRow) -> Result<PurchaseImport.Row, RowProblems> {
        var problems = draft.sourceProblems.values.sorted { ($0.field ?? "") < ($1.field ?? "") }
        func problem(_ field: DraftField?, _ message: String) {
            problems.append(ImportProblem(location: draft.location, field: field?.label, message: message, ordinal: draft.ordinal))
        }
        func problem(_ column: ImportColumn, _ message: String) {
            problems.append(ImportProblem(location: draft.location, field: draft.label(column), message: message, ordinal: draft.ordinal))
        }

        let vendorField = draft[.vendor] ?? rules.defaultVendor.map { DraftField(text: $0.trimmingCharacters(in: .whitespaces), label: nil) }
        if vendorField == nil { problem(.vendor, draft.missingVendor) }
        if let vendorField, vendorField.text.isEmpty || vendorField.text.count > VendorRegistry.maxNameLength {
            problem(vendorField, "a vendor name must be 1-\(VendorRegistry.maxNameLength) characters")
        }

        let item = draft[.item]
        if let item {
            if item.text.count > PurchaseLedger.maxTextLength { problem(item, "the item must be 1-\(PurchaseLedger.maxTextLength) characters") }
        } else {
            if draft.sourceProblems[.item] == nil { problem(.item, "item is empty") }
        }

        var date: CalendarDate?
        if draft.sourceProblems[.date] != nil {
            // Reported by the source, by its own rules.
        } else if let field = draft[.date] {
            switch readDate(field.text) {
            case .success(let day): date = day
            case .failure(let message): problem(field, message.text)
            }
        } else {
            problem(.date, "date is empty")
        }

        var quantity = 1
        if let field = draft[.quantity] {
            let q = field.text
            if q.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(q), n >= 1 {
                if n > 1_000_000 { problem(field, "the quantity must be a whole number from 1 to 1000000") } else { quantity = n }
            } else {
                problem(field, "invalid quantity \"\(ImportProblem.shown(q, 20))\": use a whole number of at least 1")
            }
        }

        var price: Money?
        if draft.sourceProblems[.price] == nil {
            switch readPrice(draft, quantity: quantity) {
            case .success(let money): price = money
            case .failure(let failure): problem(failure.field, failure.text)
            }
        }

        if let order = draft[.order], order.text.count > 200 { problem(order, "the order number must be 1-200 characters") }
        if let gift = draft[.giftFor], gift.text.count > 200 { problem(gift, "the gift recipient (gift_for) must be 1-200 characters") }

        // A row with other problems still names its vendor, so that an unknown vendor is
        // reported in the same run (a stand-in row that is only looked up, never written).
        var vendorOnly: PurchaseImport.Row?
        if let vendorField, !vendorField.text.isEmpty, vendorField.text.count <= VendorRegistry.maxNameLength {
            vendorOnly = PurchaseImport.Row(
                location: draft.location, purchase: NewPurchase(vendorName: vendorField.text, item: "", date: nil), ordinal: draft.ordinal,
                vendorLabel: vendorField.label, vendorFromOption: draft[.vendor] == nil)
        }
        guard problems.isEmpty, draft.sourceProblems.isEmpty, let vendorField, let item, let date else {
            return .failure(RowProblems(problems: problems, vendorOnly: vendorOnly))
        }
        let purchase = NewPurchase(
            vendorName: vendorField.text, item: item.text, date: date, price: price, orderNumber: draft[.order]?.text,
            quantity: quantity, giftFor: draft[.giftFor]?.text)
        do {
            try PurchaseLedger.validate(purchase)
        } catch {
            problem(nil, "\(error)")
            return .failure(RowProblems(problems: problems, vendorOnly: vendorOnly))
        }
        return .success(
            PurchaseImport.Row(
                location: draft.location, purchase: purchase, ordinal: draft.ordinal, vendorLabel: vendorField.label, vendorFromOption: draft[.vendor] == nil,
                mergeGroup: draft.mergeGroup))
    }

    /// A problem message and the field it is about.
    struct Failure: Error {
        var field: DraftField?
        var text: String
    }

    /// YYYY-MM-DD or an ISO timestamp always; the `--date-format` layout too, if given.
    func readDate(_ text: String) -> Result<CalendarDate, Failure> {
        if let day = ImportDate.iso(text) { return .success(day) }
        let shown = ImportProblem.shown(text, 30)
        if let reason = ImportDate.isoProblem(text) { return .failure(Failure(text: "invalid date \"\(shown)\": \(reason)")) }
        guard let format = rules.dateFormat else {
            return .failure(Failure(text: "invalid date \"\(shown)\": use YYYY-MM-DD, or pass date_format with the file's layout (e.g. %m/%d/%y)"))
        }
        switch format.match(text) {
        case .day(let day): return .success(day)
        case .noSuchDay: return .failure(Failure(text: "invalid date \"\(shown)\": there is no such day"))
        case .noMatch:
            return .failure(
                Failure(text: "invalid date \"\(shown)\": it does not match date_format \(ImportProblem.shown(format.description, 40)) (nor YYYY-MM-DD)"))
        }
    }

    /// The price of the line, in the currency the row, its amount or `--currency` gives.
    func readPrice(_ draft: DraftRow, quantity: Int) -> Result<Money?, Failure> {
        let priceField = draft[.price], currencyField = draft[.currency]
        guard let priceField else {
            if let currencyField { return .failure(Failure(field: currencyField, text: "a currency needs a price")) }
            return .success(nil)
        }
        let shown = ImportProblem.shown(priceField.text, 30)
        guard var amount = WrittenAmount.read(priceField.text, decimalComma: rules.decimalComma), !amount.negative else {
            let hint = !rules.decimalComma && priceField.text.contains(",") ? " (for a decimal comma pass decimal_comma)" : ""
            return .failure(Failure(field: priceField, text: "invalid price \"\(shown)\": use a non-negative amount like 12.34\(hint)"))
        }
        let code: String
        switch currency(of: amount, column: currencyField, priceField: priceField) {
        case .success(let found): code = found
        case .failure(let failure): return .failure(failure)
        }
        let digits = ISO4217.minorDigits[code] ?? 2
        if draft.paddedAmounts, amount.fractionDigits > digits, amount.decimal.hasSuffix(String(repeating: "0", count: amount.fractionDigits - digits)) {
            amount.decimal.removeLast(amount.fractionDigits - digits)
            if amount.decimal.hasSuffix(".") { amount.decimal.removeLast() }
        }
        guard amount.fractionDigits <= digits else {
            return .failure(Failure(field: priceField, text: "invalid price \"\(shown)\": \(code) has \(digits) decimal place\(digits == 1 ? "" : "s")"))
        }
        guard var money = try? Money.parse(amount.decimal, currency: code) else {
            return .failure(Failure(field: priceField, text: "invalid price \"\(shown)\": too large"))
        }
        if draft.unitPrice {
            let (total, overflow) = money.minorUnits.multipliedReportingOverflow(by: Int64(quantity))
            guard !overflow, total < 10_000_000_000_000 * Money.power(digits) else {
                return .failure(Failure(field: priceField, text: "the price \"\(shown)\" × quantity \(quantity) is too large"))
            }
            money.minorUnits = total
        }
        return .success(money)
    }

    /// The currency column wins, and must agree with a code or symbol on the amount; then the
    /// amount's code or symbol (`--currency` settles a symbol of several currencies); then
    /// `--currency`.
    private func currency(of amount: WrittenAmount, column: DraftField?, priceField: DraftField) -> Result<String, Failure> {
        let shown = ImportProblem.shown(priceField.text, 30)
        var chosen: String?
        if let column {
            guard let mark = CurrencyMark.named(column.text) else {
                return .failure(
                    Failure(
                        field: column,
                        text: "unknown currency code \"\(ImportProblem.shown(column.text, 10))\": use an ISO 4217 code such as EUR, USD, GBP, JPY"))
            }
            guard let code = mark.alone else {
                return .failure(Failure(field: column, text: "the currency \"\(mark.written)\" could be \(mark.choices): write its ISO 4217 code"))
            }
            chosen = code
        }
        if let mark = amount.mark {
            if let code = chosen {
                guard mark.codes.contains(code) else { return .failure(Failure(field: priceField, text: "the price \"\(shown)\" is not in \(code)")) }
            } else if let code = rules.defaultCurrency, mark.codes.contains(code) {
                chosen = code
            } else if let code = mark.alone {
                chosen = code
            } else if let code = rules.defaultCurrency {
                return .failure(Failure(field: priceField, text: "the price \"\(shown)\" is not in \(code)"))
            } else {
                return .failure(
                    Failure(
                        field: priceField, text: "\"\(mark.written)\" in the price \"\(shown)\" could be \(mark.choices): pass default_currency with the code"))
            }
        }
        guard let code = chosen ?? rules.defaultCurrency else {
            return .failure(
                Failure(field: priceField, text: "a price needs a currency (a currency column, a code or symbol with the amount, or default_currency)"))
        }
        return .success(code)
    }
}

/// The problems of one row.
struct RowProblems: Error {
    var problems: [ImportProblem]
    /// The row's vendor, for the vendor check, when the row names a well-formed one.
    var vendorOnly: PurchaseImport.Row?
}
