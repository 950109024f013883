import Foundation
import VaultCore

/// The share history as a timeline: a chart of events per day (or week, or month), then the
/// entries newest first, filtered by vendor, kind and time, under the chain's verify status.
enum HistoryView {
    /// The kinds the timeline tells apart, each with its colour class.
    static let kinds: [(key: String, label: String)] = [
        ("issued", "issued"), ("redeemed", "redemptions"), ("denied", "refusals"), ("changed", "share changes"),
        ("revoked", "revocations"), ("request", "access requests"), ("other", "other"),
    ]

    static func kind(of event: String) -> String {
        switch AuditEvent(rawValue: event) {
        case .grantIssued: "issued"
        case .shareRedeemed, .shareNotModified: "redeemed"
        case .shareDenied: "denied"
        case .shareRematerialised: "changed"
        case .grantRevoked: "revoked"
        case .requestLinked, .requestReceived, .requestApproved, .requestDenied: "request"
        default: "other"
        }
    }

    struct Filter: Sendable {
        /// A vendor's id.
        var vendor: String?
        var kind: String?
        var since: CalendarDate?
        var until: CalendarDate?
    }

    static let maxShown = 500

    static func body(
        entries all: [AuditEntry], filter: Filter, vendors: [(id: String, name: String)], verification: Result<AuditVerification, any Error>
    ) -> String {
        let entries = all.filter { entry in
            if let wanted = filter.kind, Self.kind(of: entry.event) != wanted { return false }
            if let since = filter.since, CalendarDate(entry.at) < since { return false }
            if let until = filter.until, CalendarDate(entry.at) > until { return false }
            return true
        }
        var html = "<h1>Share history</h1>"
        switch verification {
        case .success(.intact(let count, _)):
            html +=
                "<p id=\"chain-status\" data-status=\"intact\"><span class=\"badge ok\">Chain verified</span> all \(count) entries chain, the ones you wrote carry your vault key's MAC, and the checkpoint this machine keeps matches.</p>"
        case .success(.broken(let firstBad, let reason)):
            html +=
                "<p id=\"chain-status\" data-status=\"broken\" role=\"alert\"><span class=\"badge bad\">Chain broken</span> from entry \(firstBad): \(HTML.text(reason)). Entries from there on cannot be trusted; run <code>vrm audit verify</code>.</p>"
        case .failure(let error):
            html +=
                "<p id=\"chain-status\" data-status=\"failed\" role=\"alert\"><span class=\"badge bad\">Not verified</span> \(HTML.text(String(describing: error)))</p>"
        }
        html += filters(filter, vendors: vendors)
        html += chart(entries)
        let shown = entries.suffix(maxShown).reversed()
        html +=
            "<h2>Entries</h2><p class=\"hint\">\(entries.count) entr\(entries.count == 1 ? "y" : "ies") match\(entries.count == 1 ? "es" : "")\(entries.count > maxShown ? "; the newest \(maxShown) are shown" : ""), newest first. “You” marks entries your vault key authenticated; the others were written by the endpoint that served the vendor.</p>"
        if shown.isEmpty {
            html += "<p>Nothing in the history matches.</p>"
            return html
        }
        html += "<ol class=\"timeline\" id=\"timeline\">"
        for entry in shown {
            let k = Self.kind(of: entry.event)
            let b = entry.body
            var detail = [String]()
            if let vendor = b.vendor { detail.append(HTML.text(vendor)) }
            if let grant = b.grantID { detail.append("<code>\(HTML.text(grant))</code>") }
            if let request = b.requestID { detail.append("request <code>\(HTML.text(request))</code>") }
            if let scopes = b.scopes, !scopes.isEmpty { detail.append(HTML.text(scopes.joined(separator: ", "))) }
            if let version = b.version { detail.append("version \(version)") }
            if let reason = b.reason { detail.append(HTML.text(reason)) }
            if let client = b.client { detail.append("from " + HTML.text(client)) }
            html += """
                <li data-event="\(HTML.text(entry.event))" data-seq="\(entry.seq)">\(Shown.timeElement(entry.at))\
                <span class="kind t-\(k)">\(HTML.text(entry.event))</span><span>\(detail.joined(separator: " · "))\
                <span class="hint"> — #\(entry.seq), \(entry.authenticated ? "you" : "endpoint")</span></span></li>
                """
        }
        return html + "</ol>"
    }

    static func filters(_ filter: Filter, vendors: [(id: String, name: String)]) -> String {
        var html = "<form class=\"filters\" method=\"get\" action=\"/history\" role=\"search\" aria-label=\"Filter the history\">"
        html += "<div><label for=\"f-vendor\">Vendor</label><select id=\"f-vendor\" name=\"vendor\"><option value=\"\">All vendors</option>"
        for vendor in vendors {
            html += "<option value=\"\(HTML.text(vendor.id))\"\(vendor.id == filter.vendor ? " selected" : "")>\(HTML.text(vendor.name))</option>"
        }
        html += "</select></div><div><label for=\"f-kind\">Kind</label><select id=\"f-kind\" name=\"kind\"><option value=\"\">All kinds</option>"
        for kind in kinds {
            html += "<option value=\"\(kind.key)\"\(kind.key == filter.kind ? " selected" : "")>\(HTML.text(kind.label))</option>"
        }
        html += """
            </select></div><div><label for="f-since">From</label><input id="f-since" type="date" name="since" value="\(filter.since?.description ?? "")"></div>\
            <div><label for="f-until">To</label><input id="f-until" type="date" name="until" value="\(filter.until?.description ?? "")"></div>\
            <div><button type="submit">Filter</button> <a href="/history">Clear</a></div></form>
            """
        return html
    }

    /// Events per day over the entries' span — at least the 30 days up to the last entry, the
    /// days without events included — per week past 62 days, per month past two years.
    static func chart(_ entries: [AuditEntry]) -> String {
        guard let first = entries.first?.at, let last = entries.last?.at else { return "" }
        let start = min(first, last.addingTimeInterval(-29 * 86_400))
        let days = Int(last.timeIntervalSince(start) / 86_400) + 1
        let bucket: (Date) -> String
        let unit: String
        let step: (Date) -> Date
        if days <= 62 {
            (bucket, unit) = ({ CalendarDate($0).description }, "day")
            step = { $0.addingTimeInterval(86_400) }
        } else if days <= 730 {
            (bucket, unit) = ({ date in CalendarDate(date.addingTimeInterval(-Double(weekdayOffset(date)) * 86_400)).description }, "week")
            step = { $0.addingTimeInterval(7 * 86_400) }
        } else {
            (bucket, unit) = ({ CalendarDate($0).monthKey }, "month")
            step = { $0.addingTimeInterval(28 * 86_400) }
        }
        var counts: [String: [String: Int]] = [:]
        for entry in entries { counts[bucket(entry.at), default: [:]][Self.kind(of: entry.event), default: 0] += 1 }
        // Every bucket from the start to the last entry, empty ones too (at most 400 steps).
        var keys: [String] = []
        let lastKey = bucket(last)
        var cursor = start
        while keys.count < 400 {
            let key = bucket(cursor)
            if key > lastKey { break }
            if keys.last != key { keys.append(key) }
            cursor = step(cursor)
        }
        for key in counts.keys where !keys.contains(key) { keys.append(key) }
        let stacks = keys.sorted().map { Charts.Stack(label: $0, counts: counts[$0] ?? [:]) }
        let totals = kinds.map { kind in (kind.label, entries.filter { Self.kind(of: $0.event) == kind.key }.count) }.filter { $0.1 > 0 }
        let description =
            "Events per \(unit) from \(stacks.first?.label ?? "") to \(stacks.last?.label ?? ""): " + totals.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
            + "."
        var html = "<figure class=\"wide\"><figcaption>Events per \(unit)</figcaption>"
        html += Charts.stacked(stacks, series: kinds, title: "Share history events per \(unit)", description: description, id: "history-chart")
        html += "<ul class=\"legend\">"
        for kind in kinds where totals.contains(where: { $0.0 == kind.label }) {
            html += "<li><span class=\"swatch k-\(kind.key)\" aria-hidden=\"true\"></span>\(HTML.text(kind.label))</li>"
        }
        return html + "</ul></figure>"
    }

    /// Days since the Monday before `date` (UTC).
    static func weekdayOffset(_ date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return (calendar.component(.weekday, from: date) + 5) % 7
    }
}
