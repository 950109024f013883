import Foundation
import VaultCore

/// Vendors by relationship stage, spending per month, and the open cases.
enum RecordViews {
    static func relationships(cards: [VendorScorecard], activeGrants: [String: Int], spending: [SpendingRow]) -> String {
        var html =
            "<h1>Relationships</h1><p class=\"lead\">Your vendors by stage, from awareness to dissolution, with what you bought, what you spent (per currency; returns not counted) and the cases still open.</p>"
        html += "<div class=\"stages\">"
        for stage in RelationshipStage.allCases {
            let inStage = cards.filter { $0.stage == stage.rawValue }.sorted { $0.vendor.lowercased() < $1.vendor.lowercased() }
            html +=
                "<section class=\"stage\" aria-labelledby=\"stage-\(stage.rawValue)\" data-stage=\"\(stage.rawValue)\"><h2 id=\"stage-\(stage.rawValue)\">\(stage.rawValue) (\(inStage.count))</h2>"
            for card in inStage {
                html += """
                    <article class="card" data-vendor="\(HTML.text(card.vendorID))"><h3>\(HTML.text(card.vendor))</h3><dl>\
                    <dt>Purchases</dt><dd>\(card.purchases)\(card.returns > 0 ? " (\(card.returns) returned)" : "")</dd>\
                    <dt>Spent</dt><dd>\(card.spend.isEmpty ? "nothing" : HTML.text(card.spend.joined(separator: ", ")))</dd>\
                    <dt>Open cases</dt><dd>\(card.openCases)</dd>\
                    <dt>Can read</dt><dd>\(activeGrants[card.vendorID].map { "\($0) active grant\($0 == 1 ? "" : "s")" } ?? "nothing")</dd></dl></article>
                    """
            }
            if inStage.isEmpty { html += "<p class=\"hint\">No vendor.</p>" }
            html += "</section>"
        }
        html += "</div>"
        html += spendingCharts(spending)
        return html
    }

    /// One bar chart per currency (amounts in different currencies are never added), with the
    /// months between the first and last purchase (the last 24 at most), and a table of the same.
    static func spendingCharts(_ rows: [SpendingRow]) -> String {
        var html = "<h2 id=\"spending\">Spending per month</h2>"
        guard !rows.isEmpty else { return html + "<p>No purchases with a price yet.</p>" }
        html += "<div class=\"charts\">"
        let byCurrency = Dictionary(grouping: rows, by: \.currency)
        for currency in byCurrency.keys.sorted() {
            let months = Dictionary((byCurrency[currency] ?? []).map { ($0.group, $0) }, uniquingKeysWith: { a, _ in a })
            let span = Array(monthSpan(from: months.keys.min() ?? "", to: months.keys.max() ?? "").suffix(24))
            let bars = span.map { month -> Charts.Bar in
                let row = months[month]
                let text = row?.total ?? "0"
                return Charts.Bar(
                    label: month, value: Double(text) ?? 0, text: text,
                    tooltip: "\(month): \(text) \(currency)\(row.map { " (\($0.purchases) purchase\($0.purchases == 1 ? "" : "s"))" } ?? "")")
            }
            let id = "spend-" + currency.filter { $0.isLetter || $0.isNumber }
            html += "<figure data-currency=\"\(HTML.text(currency))\"><figcaption>\(HTML.text(currency)) per month</figcaption>"
            html += Charts.bars(
                bars, title: "Spending in \(currency) per month",
                description: bars.filter { $0.value > 0 }.map { "\($0.label): \($0.text)" }.joined(separator: "; "),
                id: id)
            html +=
                "<details><summary>The numbers</summary><table><thead><tr><th scope=\"col\">Month</th><th scope=\"col\">\(HTML.text(currency))</th><th scope=\"col\">Purchases</th></tr></thead><tbody>"
            for month in span.reversed() {
                guard let row = months[month] else { continue }
                html += "<tr><td>\(HTML.text(month))</td><td>\(HTML.text(row.total))</td><td>\(row.purchases)</td></tr>"
            }
            html += "</tbody></table></details></figure>"
        }
        return html + "</div>"
    }

    /// Every `YYYY-MM` from `first` to `last` (just the two when either is not a month).
    static func monthSpan(from first: String, to last: String) -> [String] {
        func parts(_ text: String) -> (Int, Int)? {
            let fields = text.split(separator: "-")
            guard fields.count == 2, let y = Int(fields[0]), let m = Int(fields[1]), (1...12).contains(m) else { return nil }
            return (y, m)
        }
        guard let (y0, m0) = parts(first), let (y1, m1) = parts(last), (y0, m0) <= (y1, m1), y1 - y0 < 100 else {
            return Array(Set([first, last])).sorted()
        }
        var (y, m) = (y0, m0)
        var months: [String] = []
        while (y, m) <= (y1, m1) {
            months.append(String(format: "%04d-%02d", y, m))
            (y, m) = m == 12 ? (y + 1, 1) : (y, m + 1)
        }
        return months
    }

    /// Open and escalated cases, the overdue ones first, then by follow-up date.
    static func cases(_ all: [SupportCase], vendorNames: [String: String], today: CalendarDate) -> String {
        let open = all.filter(\.status.isOpen).sorted { a, b in
            let (oa, ob) = (a.isOverdue(today: today), b.isOverdue(today: today))
            if oa != ob { return oa }
            switch (a.followUp, b.followUp) {
            case (let x?, let y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return (a.openedAt, a.id) < (b.openedAt, b.id)
            }
        }
        let overdue = open.filter { $0.isOverdue(today: today) }.count
        var html =
            "<h1>Open cases</h1><p class=\"lead\">\(open.count) open or escalated case\(open.count == 1 ? "" : "s")\(overdue > 0 ? ", \(overdue) overdue" : ""). Overdue ones come first, then by follow-up date.</p>"
        guard !open.isEmpty else { return html + "<p>No open cases.</p>" }
        html += """
            <div class="scroll"><table class="stack" id="cases"><thead><tr><th scope="col">Follow up</th><th scope="col">Subject</th><th scope="col">Vendor</th>\
            <th scope="col">Status</th><th scope="col">Priority</th><th scope="col">Opened</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead><tbody>
            """
        for c in open {
            let late = c.isOverdue(today: today)
            let follow: String
            if let date = c.followUp {
                let days = date.days(until: today)
                follow = late ? "<span class=\"overdue\">\(date) — overdue by \(days) day\(days == 1 ? "" : "s")</span>" : "\(date)"
            } else {
                follow = "<span class=\"hint\">none</span>"
            }
            let vendor = vendorNames[c.vendorID] ?? "(removed vendor)"
            html += """
                <tr data-case="\(HTML.text(c.id))" data-overdue="\(late)"><td data-label="Follow up">\(follow)</td>\
                <td data-label="Subject">\(HTML.text(c.subject))\(c.reference.map { " <span class=\"hint\">(\(HTML.text($0)))</span>" } ?? "")</td>\
                <td data-label="Vendor">\(HTML.text(vendor))</td><td data-label="Status">\(c.status.rawValue)</td>\
                <td data-label="Priority">\(c.priority.rawValue)</td><td data-label="Opened">\(Shown.timeElement(c.openedAt, dayOnly: true))</td>\
                <td><a class="button" href="/cases/\(HTML.component(c.id))/close" aria-label="Close case \(HTML.text(c.subject))">Close…</a></td></tr>
                """
        }
        return html + "</tbody></table></div>"
    }
}
