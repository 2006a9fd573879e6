-- pandoc filter for netmon-plugins(7), run by make-plugins-page.sh: the
-- plugins' and sinks' READMEs as man(7) that mandoc -T lint accepts and
-- that reads as one page.
--
-- pandoc's man writer sets code in the fonts V and C, which groff defines
-- and mandoc does not (invalid escapes); puts .PP after every heading
-- (mandoc: paragraph macro skipped); and makes every heading below level 1
-- an .SS, so a README's own sections would look like further plugins.
-- Hence inline code in bold, as man pages set literal text; code blocks
-- written here, unfilled (not .EX/.EE: groff's .EE turns hyphenation back
-- on, which would split identifiers); a README's title (level 2 once
-- demoted) an .SS and its deeper headings paragraphs in bold or italic.
-- Tables get column widths from their text, as the READMEs give none (the
-- writer would make the columns equal and split option names). A README's
-- Files or Code section is left out: it lists the sources and tests, which
-- a manual of the installed programs has no use for.

local omitted_sections = { Files = true, Code = true }

-- Text as roff in no-fill mode: '-' as \- and ASCII quotes as \(aq and
-- \(ga so that a command copied from the page runs; ^ and ~ likewise, and
-- other non-ASCII characters as named by code point.
local function roff_text(text)
  local out = {}
  local special = { ['\\'] = '\\e', ['-'] = '\\-', ["'"] = '\\(aq', ['`'] = '\\(ga',
                    ['^'] = '\\(ha', ['~'] = '\\(ti' }
  for _, code in utf8.codes(text) do
    local ch = utf8.char(code)
    if special[ch] then
      out[#out + 1] = special[ch]
    elseif code > 127 then
      out[#out + 1] = string.format('\\[u%04X]', code)
    else
      out[#out + 1] = ch
    end
  end
  -- A line starting with '.' would be a request.
  return (table.concat(out):gsub('^%.', '\\&.'):gsub('\n%.', '\n\\&.'))
end

function Code(el)
  return pandoc.Strong({ pandoc.Str(el.text) })
end

function CodeBlock(el)
  return pandoc.RawBlock('man', '.IP\n.nf\n' .. roff_text(el.text) .. '\n.fi')
end

local function text_width(s)
  return utf8.len(s) or #s
end

-- Each column gets its longest word, so that no name is split, then a share
-- of what is left in proportion to what its longest cell still lacks.
function Table(tbl)
  local ncols = #tbl.colspecs
  local least, most = {}, {}
  for i = 1, ncols do
    least[i], most[i] = 1, 1
  end
  local function measure(rows)
    for _, row in ipairs(rows) do
      for i, cell in ipairs(row.cells) do
        if i <= ncols and cell.col_span == 1 then
          local text = pandoc.utils.stringify(cell.contents)
          most[i] = math.max(most[i], text_width(text))
          for word in text:gmatch('%S+') do
            least[i] = math.max(least[i], text_width(word))
          end
        end
      end
    end
  end
  measure(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    measure(body.head)
    measure(body.body)
  end
  -- The writer turns a width of 1 into 70 ens; tbl adds 3 between columns.
  -- 70 and the indentation of the text fit in 80 columns.
  local line = 70 - 3 * (ncols - 1)
  local sum_least, sum_extra = 0, 0
  for i = 1, ncols do
    sum_least = sum_least + least[i]
    sum_extra = sum_extra + most[i] - least[i]
  end
  local widths = {}
  if sum_least <= line then
    local left = line - sum_least
    for i = 1, ncols do
      local extra = most[i] - least[i]
      if sum_extra > left then
        extra = extra * left / sum_extra
      end
      widths[i] = least[i] + extra
    end
  else
    -- The narrowest table that splits no word: wider than the line, which
    -- is better than a name cut in two.
    for i = 1, ncols do
      widths[i] = least[i]
    end
  end
  for i = 1, ncols do
    tbl.colspecs[i] = { tbl.colspecs[i][1], widths[i] / 70 }
  end
  return tbl
end

function Pandoc(doc)
  local blocks = {}
  local skip_below = nil  -- the level of the section being left out
  local after_heading = false  -- the last block is an .SH or .SS
  for _, block in ipairs(doc.blocks) do
    local level = block.t == 'Header' and block.level or nil
    if skip_below and (not level or level > skip_below) then
      goto continue
    end
    skip_below = nil
    if level == 3 and omitted_sections[pandoc.utils.stringify(block.content)] then
      skip_below = 3
      goto continue
    end
    if level and level > 2 then
      local text = level == 3 and pandoc.Strong(block.content) or pandoc.Emph(block.content)
      block = pandoc.Para({ text })
    end
    if after_heading and block.t == 'Para' then
      block = pandoc.Plain(block.content)
    elseif after_heading and block.t == 'Table' then
      -- The writer puts .PP before every table: the table is written here
      -- without it, and the page still declared to need tbl.
      local man = pandoc.write(pandoc.Pandoc({ block }), 'man')
      block = pandoc.RawBlock('man', (man:gsub('^%.PP\n', '')))
      doc.meta['has-tables'] = true
    end
    blocks[#blocks + 1] = block
    after_heading = block.t == 'Header'
    ::continue::
  end
  doc.blocks = blocks
  return doc
end
