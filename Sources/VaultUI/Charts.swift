import Foundation

/// Small SVG charts drawn on the server: no script, no library, no inline style (colours come
/// from the stylesheet's classes). Each chart is an image with a title and a description for
/// screen readers, and the page beside it holds the same numbers as text.
enum Charts {
    struct Bar {
        var label: String
        var value: Double
        /// The value as the page shows it (`"123.45"`).
        var text: String
        var tooltip: String
    }

    /// Vertical bars, one per label, scaled to the largest.
    static func bars(_ bars: [Bar], title: String, description: String, id: String) -> String {
        let frame = Frame(width: 640, height: 240, left: 56, bottom: 44, top: 12)
        let (width, height, left, bottom, top, right) = (frame.width, frame.height, frame.left, frame.bottom, frame.top, frame.right)
        let plotWidth = frame.plotWidth, plotHeight = frame.plotHeight
        let maximum = max(bars.map(\.value).max() ?? 0, 0)
        let scale = maximum > 0 ? plotHeight / maximum : 0
        let slot = bars.isEmpty ? plotWidth : plotWidth / Double(bars.count)
        let barWidth = min(max(2, slot * 0.7), 56)
        var svg = frame.open(title: title, description: description, id: id)
        // Axis and three gridline labels: 0, half, the maximum.
        for fraction in [0.0, 0.5, 1.0] where maximum > 0 {
            let y = top + plotHeight - fraction * plotHeight
            svg += "<line class=\"axis\" x1=\"\(HTML.number(left))\" y1=\"\(HTML.number(y))\" x2=\"\(HTML.number(width - right))\" y2=\"\(HTML.number(y))\"/>"
            svg += "<text x=\"\(HTML.number(left - 4))\" y=\"\(HTML.number(y + 4))\" text-anchor=\"end\">\(HTML.text(compact(maximum * fraction)))</text>"
        }
        // Label every bar when they fit, else about twelve of them.
        let every = max(1, Int((Double(bars.count) / 12).rounded(.up)))
        for (index, bar) in bars.enumerated() {
            let x = left + Double(index) * slot + (slot - barWidth) / 2
            let h = max(0, bar.value * scale)
            svg +=
                "<rect class=\"bar\" x=\"\(HTML.number(x))\" y=\"\(HTML.number(top + plotHeight - h))\" width=\"\(HTML.number(barWidth))\" height=\"\(HTML.number(h))\"><title>\(HTML.text(bar.tooltip))</title></rect>"
            if index % every == 0 {
                svg +=
                    "<text x=\"\(HTML.number(x + barWidth / 2))\" y=\"\(HTML.number(height - bottom + 16))\" text-anchor=\"middle\">\(HTML.text(bar.label))</text>"
            }
        }
        return svg + "</svg>"
    }

    struct Stack {
        var label: String
        /// Count per series key, in the order of `series`.
        var counts: [String: Int]
    }

    /// Stacked columns: one per bucket, one colour class per series.
    static func stacked(_ stacks: [Stack], series: [(key: String, label: String)], title: String, description: String, id: String) -> String {
        let frame = Frame(width: 640, height: 180, left: 36, bottom: 36, top: 8)
        let (height, left, bottom, top) = (frame.height, frame.left, frame.bottom, frame.top)
        let plotWidth = frame.plotWidth, plotHeight = frame.plotHeight
        let maximum = Double(stacks.map { $0.counts.values.reduce(0, +) }.max() ?? 0)
        let scale = maximum > 0 ? plotHeight / maximum : 0
        let slot = stacks.isEmpty ? plotWidth : plotWidth / Double(stacks.count)
        let barWidth = min(max(1.5, slot * 0.75), 40)
        var svg = frame.open(title: title, description: description, id: id)
        if maximum > 0 {
            svg += "<text x=\"\(HTML.number(left - 4))\" y=\"\(HTML.number(top + 10))\" text-anchor=\"end\">\(Int(maximum))</text>"
            svg += "<text x=\"\(HTML.number(left - 4))\" y=\"\(HTML.number(top + plotHeight))\" text-anchor=\"end\">0</text>"
        }
        let every = max(1, Int((Double(stacks.count) / 8).rounded(.up)))
        for (index, stack) in stacks.enumerated() {
            let x = left + Double(index) * slot + (slot - barWidth) / 2
            var y = top + plotHeight
            for s in series {
                let count = stack.counts[s.key] ?? 0
                guard count > 0 else { continue }
                let h = Double(count) * scale
                y -= h
                svg +=
                    "<rect class=\"k-\(s.key)\" x=\"\(HTML.number(x))\" y=\"\(HTML.number(y))\" width=\"\(HTML.number(barWidth))\" height=\"\(HTML.number(h))\"><title>\(HTML.text("\(stack.label): \(count) \(s.label)"))</title></rect>"
            }
            if index % every == 0 {
                svg +=
                    "<text x=\"\(HTML.number(x + barWidth / 2))\" y=\"\(HTML.number(height - bottom + 16))\" text-anchor=\"middle\">\(HTML.text(stack.label))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// A chart's drawing area: the SVG element with its title and description, and the baseline.
    struct Frame {
        var width: Double, height: Double, left: Double, bottom: Double, top: Double, right = 8.0
        var plotWidth: Double { width - left - right }
        var plotHeight: Double { height - top - bottom }

        func open(title: String, description: String, id: String) -> String {
            """
            <svg class="chart" viewBox="0 0 \(HTML.number(width)) \(HTML.number(height))" role="img" aria-labelledby="\(id)-t \(id)-d" xmlns="http://www.w3.org/2000/svg">\
            <title id="\(id)-t">\(HTML.text(title))</title><desc id="\(id)-d">\(HTML.text(description))</desc>\
            <line class="axis" x1="\(HTML.number(left))" y1="\(HTML.number(top + plotHeight))" x2="\(HTML.number(width - right))" y2="\(HTML.number(top + plotHeight))"/>
            """
        }
    }

    /// 1234.5 → "1.2k"; axis labels only (the bars' titles carry the exact amounts).
    static func compact(_ value: Double) -> String {
        switch value {
        case 1_000_000...: HTML.number((value / 100_000).rounded() / 10) + "M"
        case 10_000...: HTML.number((value / 1000).rounded()) + "k"
        case 1000...: HTML.number((value / 100).rounded() / 10) + "k"
        default: HTML.number(value)
        }
    }
}
